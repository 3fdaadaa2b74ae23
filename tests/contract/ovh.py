"""Contract checks for OVHcloud: the `/vps` OpenAPI 3 schema and the legacy `/auth` one.

What is validated, for every exchange the simulator sees:
- `/1.0/vps...` against `ovh-vps-openapi3.json`: the operation must exist, path
  parameters and query parameters must match their schemas (required ones present,
  enums respected, unknown ones refused), a JSON body against `requestBody`, and a
  200 answer against the response schema;
- `/1.0/auth/credential`, `/1.0/auth/currentCredential`, `/1.0/auth/time` against
  `ovh-auth-legacy-eu.json` (legacy format `apis[].operations[]` + `models`, converted
  here to JSON schema on the fly);
- `/1.0/me` is in neither file: only its shape is checked (an object whose
  `nichandle` is a string), which is all WakeHub reads from it;
- every error answer must be OVH's error shape: an object with a string `message`
  (and a string `errorCode` when present).

Conversion choices (documented because they make the check stricter than the raw
schema, on purpose): OpenAPI `nullable: true` becomes "or null"; objects that list
`properties` without `additionalProperties` are closed (`additionalProperties:
false`) so a misspelt field on either side is caught; `format` is not checked (the
schema's `ip` type says ipv4 while `/ips` also lists IPv6 addresses). Schemas are
loaded once per process (`functools.cache`).
"""

from __future__ import annotations

from functools import cache
import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import spec_path

VPS_SPEC = "ovh-vps-openapi3.json"
AUTH_SPEC = "ovh-auth-legacy-eu.json"
VPS_URI = "urn:wakehub:ovh-vps"
AUTH_URI = "urn:wakehub:ovh-auth"
API_PREFIX = "/1.0"


# -- OpenAPI 3 -> JSON schema ---------------------------------------------------
def _convert_openapi(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect to JSON schema (nullable, closed objects, refs)."""
    if isinstance(node, list):
        return [_convert_openapi(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in {"nullable", "example", "readOnly", "format", "description"}:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
            out[key] = f"{VPS_URI}{value}"
        elif key == "properties":
            out[key] = {name: _convert_openapi(sub) for name, sub in value.items()}
        else:
            out[key] = _convert_openapi(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def vps_spec() -> dict[str, Any]:
    """The raw `/vps` OpenAPI document (loaded once)."""
    with spec_path(VPS_SPEC).open(encoding="utf-8") as file:
        spec: dict[str, Any] = json.load(file)
    return spec


@cache
def _vps_registry() -> Registry[Any]:
    converted = {"components": _convert_openapi(vps_spec()["components"])}
    return Registry().with_resource(
        VPS_URI, Resource.from_contents(converted, default_specification=DRAFT202012)
    )


@cache
def _vps_routes() -> list[tuple[re.Pattern[str], str, list[str]]]:
    """(regex, template, parameter names) for every `/vps` path, literal ones first."""
    routes = []
    for template in vps_spec()["paths"]:
        names = re.findall(r"\{(\w+)\}", template)
        pattern = re.escape(template)
        for name in names:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
        routes.append((re.compile(f"^{pattern}$"), template, names))
    # A literal segment must win over a parameter (/vps/datacenter vs /vps/{sn}).
    routes.sort(key=lambda route: (len(route[2]), route[1]))
    return routes


def _validator(schema: dict[str, Any], registry: Registry[Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry)


def _errors(
    instance: Any, schema: dict[str, Any], registry: Registry[Any]
) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in _validator(schema, registry).iter_errors(instance)
    ]


def _vps_schema(schema: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = _convert_openapi(schema)
    return converted


def find_vps_operation(
    method: str, path: str
) -> tuple[str, dict[str, Any], dict[str, str]] | None:
    """(template, operation, path parameters) of a `/vps...` call, or None."""
    for pattern, template, _names in _vps_routes():
        match = pattern.match(path)
        if match is None:
            continue
        operation = vps_spec()["paths"][template].get(method.lower())
        if operation is not None:
            # Parameters travel percent-encoded (an IP block's "/" as %2F).
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return template, operation, params
    return None


def _check_parameters(
    where: str,
    operation: dict[str, Any],
    path_params: dict[str, str],
    query: list[tuple[str, str]],
) -> list[str]:
    problems: list[str] = []
    registry = _vps_registry()
    declared = {p["name"]: p for p in operation.get("parameters", [])}
    query_names = [name for name, _ in query]
    for name, value in query:
        param = declared.get(name)
        if param is None or param["in"] != "query":
            problems.append(f"{where}: unknown query parameter {name!r}")
            continue
        if param["schema"].get("type") == "object":
            continue  # iamTags: a deep object, never sent by WakeHub
        problems += [
            f"{where}: query {name}: {msg}"
            for msg in _errors(
                _coerce(value, param["schema"]), _vps_schema(param["schema"]), registry
            )
        ]
    for name, param in declared.items():
        if param["in"] == "query" and param.get("required") and name not in query_names:
            problems.append(f"{where}: required query parameter {name!r} missing")
        if param["in"] == "path":
            value = path_params.get(name)
            if value is None:
                problems.append(f"{where}: path parameter {name!r} missing")
                continue
            problems += [
                f"{where}: path {name}: {msg}"
                for msg in _errors(
                    _coerce(value, param["schema"]),
                    _vps_schema(param["schema"]),
                    registry,
                )
            ]
    return problems


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """Strings from a URL, typed as the schema wants where they parse."""
    if schema.get("type") == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    return value


def check_vps(
    method: str,
    path: str,
    query_string: str,
    request_body: bytes,
    status: int,
    response_body: bytes,
) -> list[str]:
    """Violations of one `/vps` exchange (path relative to the API root)."""
    where = f"{method} {path}"
    found = find_vps_operation(method, path)
    if found is None:
        return [f"{where}: no such operation in {VPS_SPEC}"]
    template, operation, path_params = found
    where = f"{method} {template}"
    query = parse_qsl(query_string, keep_blank_values=True)
    problems = _check_parameters(where, operation, path_params, query)
    registry = _vps_registry()
    body_spec = operation.get("requestBody")
    if body_spec is None:
        if request_body.strip():
            problems.append(f"{where}: a body was sent but the operation takes none")
    else:
        schema = body_spec["content"]["application/json"]["schema"]
        try:
            payload = json.loads(request_body or b"null")
        except ValueError:
            problems.append(f"{where}: request body is not JSON")
        else:
            if payload is None and body_spec.get("required"):
                problems.append(f"{where}: request body required")
            elif payload is not None:
                problems += [
                    f"{where}: request body {msg}"
                    for msg in _errors(payload, _vps_schema(schema), registry)
                ]
    problems += _check_response(where, operation, status, response_body)
    return problems


def _check_response(
    where: str, operation: dict[str, Any], status: int, body: bytes
) -> list[str]:
    if status != 200:
        return check_error_shape(where, status, body)
    content = operation["responses"].get("200", {}).get("content")
    if not content:
        return (
            []
            if not body.strip() or body.strip() == b"null"
            else [f"{where}: 200 answer has a body but the schema declares none"]
        )
    try:
        payload = json.loads(body)
    except ValueError:
        return [f"{where}: 200 answer is not JSON"]
    schema = content["application/json"]["schema"]
    return [
        f"{where}: response {msg}"
        for msg in _errors(payload, _vps_schema(schema), _vps_registry())
    ]


def check_error_shape(where: str, status: int, body: bytes) -> list[str]:
    """OVH errors are `{"message": str, "errorCode"?: str, ...}`."""
    try:
        payload = json.loads(body)
    except ValueError:
        return [f"{where}: {status} answer is not JSON"]
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
        return [f"{where}: {status} answer lacks a string 'message'"]
    if "errorCode" in payload and not isinstance(payload["errorCode"], str):
        return [f"{where}: {status} answer has a non-string 'errorCode'"]
    return []


# -- legacy /auth schema --------------------------------------------------------
_LEGACY_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "password": {"type": "string"},
    "text": {"type": "string"},
    "datetime": {"type": "string"},
    "date": {"type": "string"},
    "ipBlock": {"type": "string"},
    "ip": {"type": "string"},
    "long": {"type": "integer"},
    "int": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
}


def _legacy_type(type_name: str) -> dict[str, Any]:
    if type_name.endswith("[]"):
        return {"type": "array", "items": _legacy_type(type_name[:-2])}
    if type_name in _LEGACY_SCALARS:
        return dict(_LEGACY_SCALARS[type_name])
    return {"$ref": f"{AUTH_URI}#/models/{type_name}"}


def _convert_legacy_model(model: dict[str, Any]) -> dict[str, Any]:
    if "enum" in model:
        return {"type": "string", "enum": model["enum"]}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, prop in model.get("properties", {}).items():
        schema = _legacy_type(prop["type"])
        if prop.get("canBeNull"):
            schema = {"anyOf": [schema, {"type": "null"}]}
        properties[name] = schema
        if prop.get("required"):
            required.append(name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


@cache
def auth_spec() -> dict[str, Any]:
    """The raw legacy `/auth` document (loaded once)."""
    with spec_path(AUTH_SPEC).open(encoding="utf-8") as file:
        spec: dict[str, Any] = json.load(file)
    return spec


@cache
def _auth_registry() -> Registry[Any]:
    models = {
        name: _convert_legacy_model(model)
        for name, model in auth_spec()["models"].items()
    }
    return Registry().with_resource(
        AUTH_URI,
        Resource.from_contents({"models": models}, default_specification=DRAFT202012),
    )


def find_auth_operation(method: str, path: str) -> dict[str, Any] | None:
    """The legacy operation of `/auth...` for this method, or None."""
    for api in auth_spec()["apis"]:
        if api["path"] != path:
            continue
        for operation in api["operations"]:
            if operation["httpMethod"] == method:
                found: dict[str, Any] = operation
                return found
    return None


def check_auth(
    method: str, path: str, request_body: bytes, status: int, response_body: bytes
) -> list[str]:
    """Violations of one `/auth` exchange."""
    where = f"{method} {path}"
    operation = find_auth_operation(method, path)
    if operation is None:
        return [f"{where}: no such operation in {AUTH_SPEC}"]
    registry = _auth_registry()
    problems: list[str] = []
    body_params = [p for p in operation["parameters"] if p["paramType"] == "body"]
    if body_params:
        try:
            payload = json.loads(request_body or b"null")
        except ValueError:
            payload = None
            problems.append(f"{where}: request body is not JSON")
        if payload is None:
            problems.append(f"{where}: request body required")
        else:
            problems += [
                f"{where}: request body {msg}"
                for msg in _errors(
                    payload, _legacy_type(body_params[0]["dataType"]), registry
                )
            ]
    elif request_body.strip():
        problems.append(f"{where}: a body was sent but the operation takes none")
    if status != 200:
        return problems + check_error_shape(where, status, response_body)
    if operation["responseType"] == "void":
        return problems
    try:
        answer = json.loads(response_body)
    except ValueError:
        return [*problems, f"{where}: 200 answer is not JSON"]
    problems += [
        f"{where}: response {msg}"
        for msg in _errors(answer, _legacy_type(operation["responseType"]), registry)
    ]
    return problems


def check_me(method: str, status: int, response_body: bytes) -> list[str]:
    """`/me` is in neither schema file: check the one field WakeHub reads."""
    where = f"{method} /me"
    if method != "GET":
        return [f"{where}: WakeHub only reads /me"]
    if status != 200:
        return check_error_shape(where, status, response_body)
    try:
        payload = json.loads(response_body)
    except ValueError:
        return [f"{where}: 200 answer is not JSON"]
    if not isinstance(payload, dict) or not isinstance(payload.get("nichandle"), str):
        return [f"{where}: answer lacks a string 'nichandle'"]
    return []


def check_exchange(
    method: str,
    path: str,
    query_string: str,
    request_body: bytes,
    status: int,
    response_body: bytes,
) -> list[str]:
    """Dispatch one exchange (full path, `/1.0/...`) to the right schema."""
    if not path.startswith(API_PREFIX + "/"):
        return [f"{method} {path}: outside the API root {API_PREFIX}"]
    relative = path[len(API_PREFIX) :]
    if relative.startswith("/vps"):
        return check_vps(
            method, relative, query_string, request_body, status, response_body
        )
    if relative.startswith("/auth/"):
        return check_auth(method, relative, request_body, status, response_body)
    if relative == "/me":
        return check_me(method, status, response_body)
    return [f"{method} {relative}: not an API WakeHub uses"]
