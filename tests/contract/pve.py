"""Proxmox VE contract: check requests and responses against the official API tree.

The schema (`pve-apidata-9.1.3.json`, see ../shared/api-specs/README.md) is a tree of
`{path, info{METHOD{parameters, returns}}, children}` written in Proxmox's own
JSON-schema dialect. This module turns it into standard JSON Schema once per process:

- a property is required unless it carries `"optional": 1`;
- everything arrives as a string on the wire: request values (query string or
  form body, plus the `{node}`/`{vmid}`/... parts of the path) are coerced to the
  declared type before validation; booleans are 0/1 (Proxmox also takes
  true/false, yes/no, on/off);
- in responses, booleans may be 0/1 integers and integers/numbers may be numeric
  strings (Proxmox's Perl side is loose about that);
- `pattern` is anchored as Proxmox anchors it (`^...$`), Perl's `(?^:` becomes `(?:`;
- a few `format`s that matter to WakeHub are checked (`pve-configid` for snapshot
  names, `pve-node`);
- a request parameter's `requires` (`statestorage` only with `todisk`) becomes a
  `dependentRequired`; the other keywords (`typetext`, `renderer`, ...) are ignored.

Usage: `spec = load_spec(path)`, then `spec.validate_request(method, path, params)`
and `spec.validate_response(method, path, data)`; both return a list of violations
(strings, empty when the exchange is valid).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import functools
import json
from pathlib import Path
import re
from typing import Any

import jsonschema

SPEC_NAME = "pve-apidata-9.1.3.json"

# The Perl regexes Proxmox checks these formats with (PVE::JSONSchema).
FORMAT_PATTERNS = {
    "pve-configid": r"^[A-Za-z][A-Za-z0-9_-]+$",
    "pve-node": r"^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$",
}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
INT_RE = re.compile(r"^[+-]?\d+$")
NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _pattern(pve_pattern: str) -> str:
    """Proxmox anchors its patterns and writes Perl's `(?^:` for a plain group."""
    return "^(?:" + pve_pattern.replace("(?^:", "(?:") + ")$"


def _string_keywords(schema: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("maxLength", "minLength", "enum"):
        if key in schema:
            out[key] = schema[key]
    patterns = []
    if isinstance(schema.get("pattern"), str):
        patterns.append(_pattern(schema["pattern"]))
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in FORMAT_PATTERNS:
        patterns.append(FORMAT_PATTERNS[fmt])
    if len(patterns) == 1:
        out["pattern"] = patterns[0]
    elif patterns:
        out["allOf"] = [{"pattern": p} for p in patterns]
    return out


def _numeric_keywords(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: schema[k] for k in ("minimum", "maximum", "enum") if k in schema}


def to_json_schema(schema: Any, *, response: bool) -> dict[str, Any]:  # noqa: PLR0911 (one return per type)
    """Translate one Proxmox schema node into standard JSON Schema.

    `response=True` accepts the looser encodings Proxmox uses in answers (0/1 for
    booleans, numeric strings); requests are coerced before validation instead.
    """
    if not isinstance(schema, Mapping):
        return {}
    kind = schema.get("type")
    if kind is None and ("properties" in schema or "additionalProperties" in schema):
        kind = "object"
    if kind == "object":
        return _object_schema(schema, response=response)
    if kind == "array":
        out: dict[str, Any] = {"type": "array"}
        if isinstance(schema.get("items"), Mapping):
            out["items"] = to_json_schema(schema["items"], response=response)
        return out
    if kind == "string":
        return {"type": "string", **_string_keywords(schema)}
    if kind == "integer":
        num = {"type": "integer", **_numeric_keywords(schema)}
        if response:
            return {"anyOf": [num, {"type": "string", "pattern": INT_RE.pattern}]}
        return num
    if kind == "number":
        num = {"type": "number", **_numeric_keywords(schema)}
        if response:
            return {"anyOf": [num, {"type": "string", "pattern": NUMBER_RE.pattern}]}
        return num
    if kind == "boolean":
        return {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}]}
    if kind == "null":
        return {"type": "null"}
    return {}  # "any", or no type at all: anything goes


def _object_schema(schema: Mapping[str, Any], *, response: bool) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    out: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: to_json_schema(prop, response=response)
            for name, prop in properties.items()
        },
        "required": sorted(
            name
            for name, prop in properties.items()
            if isinstance(prop, Mapping) and not prop.get("optional")
        ),
    }
    requires = {
        name: [prop["requires"]]
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and isinstance(prop.get("requires"), str)
    }
    if requires and not response:
        out["dependentRequired"] = requires
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        out["additionalProperties"] = to_json_schema(extra, response=response)
    elif extra is not None:
        out["additionalProperties"] = bool(extra)
    else:
        # Proxmox refuses undeclared properties unless told otherwise; an object
        # declared without any property (e.g. `ha`) is free-form.
        out["additionalProperties"] = not properties
    return out


def coerce_wire_value(value: str, schema: Any) -> Any:
    """Turn a wire string into the declared type (unchanged when it cannot be)."""
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if kind == "integer" and INT_RE.match(value):
        return int(value)
    if kind == "number" and NUMBER_RE.match(value):
        return float(value)
    if kind == "boolean":
        lowered = value.lower()
        if lowered in TRUE_WORDS:
            return 1
        if lowered in FALSE_WORDS:
            return 0
    return value


@dataclass(frozen=True)
class Endpoint:
    """One path template of the API tree with its methods."""

    template: str
    segments: tuple[str, ...]
    info: Mapping[str, Any]

    @property
    def literal_count(self) -> int:
        return sum(1 for s in self.segments if not s.startswith("{"))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        found: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            if segment.startswith("{") and segment.endswith("}"):
                found[segment[1:-1]] = part
            elif segment != part:
                return None
        return found


@dataclass
class PveSpec:
    """The loaded API tree, with compiled validators cached per endpoint."""

    endpoints: list[Endpoint]
    _validators: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    @classmethod
    def from_tree(cls, tree: list[Any]) -> PveSpec:
        endpoints: list[Endpoint] = []

        def walk(nodes: list[Any]) -> None:
            for node in nodes:
                path = node["path"]
                endpoints.append(
                    Endpoint(
                        path,
                        tuple(p for p in path.split("/") if p),
                        node.get("info") or {},
                    )
                )
                walk(node.get("children") or [])

        walk(tree)
        # Literal segments win over templates (/nodes/{node}/qemu before {vmid}).
        endpoints.sort(key=lambda e: -e.literal_count)
        return cls(endpoints)

    def find(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        """The endpoint a concrete path belongs to, with its path parameters."""
        parts = [p for p in path.split("/") if p]
        for endpoint in self.endpoints:
            found = endpoint.match(parts)
            if found is not None:
                return endpoint, found
        return None

    def method_info(
        self, method: str, path: str
    ) -> tuple[Endpoint, dict[str, str], Mapping[str, Any]] | str:
        located = self.find(path)
        if located is None:
            return f"{method} {path}: no such endpoint in the Proxmox API"
        endpoint, path_params = located
        info = endpoint.info.get(method.upper())
        if info is None:
            return f"{method} {path}: {endpoint.template} has no {method} method"
        return endpoint, path_params, info

    def _validator(
        self, endpoint: Endpoint, method: str, which: str, schema: Any
    ) -> Any:
        key = (endpoint.template, method, which)
        if key not in self._validators:
            converted = to_json_schema(schema, response=which == "returns")
            self._validators[key] = jsonschema.Draft202012Validator(converted)
        return self._validators[key]

    def validate_request(
        self, method: str, path: str, params: Mapping[str, str]
    ) -> list[str]:
        """Check a request: path parameters plus query (GET) or form body values."""
        located = self.method_info(method, path)
        if isinstance(located, str):
            return [located]
        endpoint, path_params, info = located
        schema = info.get("parameters") or {}
        props = schema.get("properties") or {}
        values = {
            name: coerce_wire_value(value, props.get(name))
            for name, value in {**params, **path_params}.items()
        }
        validator = self._validator(endpoint, method.upper(), "parameters", schema)
        return [
            f"{method} {path} request: {_describe(error)}"
            for error in validator.iter_errors(values)
        ]

    def validate_response(self, method: str, path: str, data: Any) -> list[str]:
        """Check the `data` member of a successful answer against `returns`."""
        located = self.method_info(method, path)
        if isinstance(located, str):
            return [located]
        endpoint, _path_params, info = located
        validator = self._validator(
            endpoint, method.upper(), "returns", info.get("returns") or {}
        )
        return [
            f"{method} {path} response: {_describe(error)}"
            for error in validator.iter_errors(data)
        ]


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


@functools.cache
def load_spec(path: Path) -> PveSpec:
    """Load and index the API tree once per process (it is 2 MB)."""
    with path.open(encoding="utf-8") as handle:
        return PveSpec.from_tree(json.load(handle))
