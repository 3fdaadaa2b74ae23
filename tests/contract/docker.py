"""Docker Engine API contract, checked against moby's own Swagger 2.0 files.

`check_exchange(version, ...)` validates one request (path known, query
parameters declared and typed) and its response (JSON body against the response
schema of that status code) and returns the violations as strings.

Two schemas are shipped in ../shared/api-specs: v1.41 and v1.56. An exchange is
checked against the newest schema not newer than the version the engine
advertises (v1.41 for anything older than 1.56), so a simulator pretending to be
an API 1.41 engine is held to the 1.41 contract.

Swagger 2.0 is not JSON Schema: `x-nullable: true` means "null allowed", and
`format`, `example`, `x-go-name` mean nothing to jsonschema. `to_json_schema`
turns the definitions into draft-4 JSON Schema once per process (the files are
big: about 0.1 s each with the C loader).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import functools
import json
import re
from typing import Any

import jsonschema
import yaml

from tests.contract import spec_path

SPEC_FILES = {
    (1, 41): "docker-engine-v1.41.yaml",
    (1, 56): "docker-engine-v1.56-swagger.yaml",
}
VERSION_PREFIX = re.compile(r"^/v(\d+)\.(\d+)(?=/)")
# Go's strconv.ParseBool, which the engine uses for boolean query parameters.
GO_BOOLEANS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}  # fmt: skip


def parse_version(version: str) -> tuple[int, int]:
    """'1.41' -> (1, 41)."""
    major, minor = version.split(".", 1)
    return int(major), int(minor)


def spec_version_for(version: str) -> tuple[int, int]:
    """The newest shipped schema not newer than `version` (else the oldest)."""
    wanted = parse_version(version)
    candidates = [v for v in SPEC_FILES if v <= wanted]
    return max(candidates) if candidates else min(SPEC_FILES)


def strip_version(path: str) -> str:
    """'/v1.41/containers/json' -> '/containers/json'."""
    return VERSION_PREFIX.sub("", path, count=1)


def to_json_schema(node: Any) -> Any:
    """Convert a Swagger 2.0 schema fragment to draft-4 JSON Schema."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: to_json_schema(value)
        for key, value in node.items()
        if key
        not in (
            "example",
            "x-nullable",
            "format",
            "x-go-name",
            "x-omitempty",
            "properties",
        )
    }
    if isinstance(key_props := node.get("properties"), dict):
        converted["properties"] = {
            name: to_json_schema(sub) for name, sub in key_props.items()
        }
    if node.get("x-nullable") is True:
        if "$ref" in converted:
            ref = converted.pop("$ref")
            return {"anyOf": [{"$ref": ref}, {"type": "null"}], **converted}
        if "type" in converted:
            types = converted["type"]
            types = types if isinstance(types, list) else [types]
            converted["type"] = [*types, "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


@dataclass
class Operation:
    """One (method, path template) of the spec."""

    template: str
    regex: re.Pattern[str]
    spec: dict[str, Any]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


class DockerContract:
    """The operations and definitions of one Docker Engine API version."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.version = spec["info"]["version"]
        self.definitions = {
            name: to_json_schema(schema) for name, schema in spec["definitions"].items()
        }
        self.operations: dict[str, list[Operation]] = {}
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            regex = re.compile(
                "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            )
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = {p["name"]: p for p in [*shared, *op.get("parameters", [])]}
                self.operations.setdefault(method.upper(), []).append(
                    Operation(template, regex, op, params)
                )
        for ops in self.operations.values():
            # Literal paths before templated ones (/containers/json vs {id}).
            ops.sort(key=lambda o: (o.template.count("{"), -len(o.template)))

    def find(self, method: str, path: str) -> Operation | None:
        """The operation serving `method path` (version prefix already stripped)."""
        for op in self.operations.get(method.upper(), []):
            if op.regex.match(path):
                return op
        return None

    @functools.cache  # noqa: B019 -- one contract object per process
    def validator(self, method: str, template: str, status: int) -> Any:
        """A jsonschema validator for one response, or None if no body schema."""
        op = next(o for o in self.operations[method] if o.template == template)
        response = op.spec["responses"].get(status) or op.spec["responses"].get(
            str(status)
        )
        if response is None or "schema" not in response:
            return None
        schema = {**to_json_schema(response["schema"]), "definitions": self.definitions}
        return jsonschema.Draft4Validator(schema)

    def check_request(self, method: str, path: str, query: dict[str, str]) -> list[str]:
        """Violations of the request: unknown path, undeclared or mistyped query."""
        bare = strip_version(path)
        op = self.find(method, bare)
        if op is None:
            return [f"{method} {path}: no such operation in Docker API {self.version}"]
        problems = []
        for name, value in query.items():
            param = op.params.get(name)
            if param is None or param["in"] != "query":
                problems.append(
                    f"{method} {path}: query parameter {name!r} is not in the spec"
                )
                continue
            problems.extend(
                f"{method} {path}: query {name}={value!r} {problem}"
                for problem in _check_scalar(param, value)
            )
        return problems

    def check_response(  # noqa: PLR0911 - one early answer per kind of violation
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> list[str]:
        """Violations of the response: undeclared status, body against schema."""
        bare = strip_version(path)
        op = self.find(method, bare)
        if op is None:
            return []  # already reported by check_request
        responses = op.spec["responses"]
        if status not in responses and str(status) not in responses:
            declared = sorted(int(s) for s in responses)
            return [f"{method} {path}: status {status} is not declared ({declared})"]
        validator = self.validator(method.upper(), op.template, status)
        if validator is None:
            return []
        if not content_type.startswith("application/json"):
            if validator.schema.get("type") == "string":
                return []
            return [f"{method} {path}: {status} body is {content_type}, not JSON"]
        try:
            document = json.loads(body)
        except ValueError:
            return [f"{method} {path}: {status} body is not JSON"]
        return [
            f"{method} {path}: {status} body at /{'/'.join(map(str, e.absolute_path))}: "
            f"{e.message}"
            for e in validator.iter_errors(document)
        ]


def _check_scalar(param: dict[str, Any], value: str) -> list[str]:
    """Type and enum of one query parameter value, as the engine parses it."""
    kind = param.get("type")
    if kind == "boolean" and value not in GO_BOOLEANS:
        return ["is not a boolean"]
    if kind == "integer":
        try:
            int(value)
        except ValueError:
            return ["is not an integer"]
    if "enum" in param and value not in param["enum"]:
        return [f"is not one of {param['enum']}"]
    return []


@functools.cache
def _load(version: tuple[int, int]) -> DockerContract:
    path = spec_path(SPEC_FILES[version])
    with path.open(encoding="utf-8") as handle:
        # The C safe loader: 5x faster than yaml.safe_load on these big files.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    return DockerContract(spec)


def contract_for(version: str) -> DockerContract:
    """The (cached) contract an engine advertising `version` is held to."""
    return _load(spec_version_for(version))


def check_exchange(
    version: str,
    method: str,
    path: str,
    *,
    query: dict[str, str],
    status: int,
    content_type: str,
    body: bytes,
) -> list[str]:
    """Every way one request/response pair breaks the Docker API `version`."""
    contract = contract_for(version)
    problems = contract.check_request(method, path, query)
    if not problems:
        problems = contract.check_response(method, path, status, content_type, body)
    return problems
