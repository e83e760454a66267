"""The OpenAPI 3.1 document, generated from the routes the app serves.

A family declares each route and its operation once, together (a DocumentedRoute):

    DocumentedRoute(openapi.operation("POST", "/api/v1/links", "native", LinkCreate,
                                      LinkEnvelope, errors={400: Error, 422: Error},
                                      summary="Create a link"), endpoint)

`create_app` builds both the routes and the document from that one list, so a route is
never undocumented and a documented operation is never a 404. Nothing is registered in
module state.

Schemas come from `msgspec.json.schema_components`, never written by hand; every field
carries a description (from `Meta(description=...)`, or the struct's docstring). `/docs`
(kurz_management.apidocs) renders the document with Swagger UI served from this package.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import msgspec
import msgspec.inspect
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

REF_TEMPLATE = "#/components/schemas/{name}"
_PATH_PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")


class IdConvertor(Convertor[str]):
    """`{name:id}`: a path segment of ASCII digits, kept as text (the handler reads it with
    kurz.validation.parse_id). A route of a literal path beside it (/api/v1/links/bulk
    beside /api/v1/links/{link_id:id}) then keeps its own methods: GET /api/v1/links/bulk
    is a 405 naming POST, not a lookup of the link "bulk"."""

    regex = "[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", IdConvertor())
# The schema of a path parameter, by its convertor.
_PATH_SCHEMAS: dict[str | None, dict[str, Any]] = {
    None: {"type": "string"},
    "id": {"type": "string", "pattern": f"^{IdConvertor.regex}$"},
    "path": {"type": "string", "minLength": 1},  # may hold "/" (a URL-encoded URL)
}
_FIELD_ENTRY = re.compile(r"^(\w+): (.*)$")


def path_words(name: str, words: tuple[str, ...]) -> None:
    """`{param:name}`: a path segment that is one of `words`, declared as their enum in
    the document; any other segment matches no route (the API's 404)."""

    class Words(Convertor[str]):
        regex = "|".join(re.escape(w) for w in words)

        def convert(self, value: str) -> str:
            return value

        def to_string(self, value: str) -> str:
            return value

    register_url_convertor(name, Words())
    _PATH_SCHEMAS[name] = {"type": "string", "enum": list(words)}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    family: str
    summary: str = ""
    description: str = ""
    request_type: Any = None
    response_type: Any = None
    query_type: Any = None
    errors: Mapping[int, Any] = field(default_factory=dict)
    status: int = 200
    security: str | None = None
    request_content_types: tuple[str, ...] = ("application/json",)
    response_content_type: str = "application/json"
    # A body the success status also carries, for a family that answers its refusals
    # with that status (Vivoldi: HTTP 200 and a non-zero code).
    refusal_type: Any = None
    # Other media types the success answer takes on request (a CSV export), as text.
    text_media: tuple[str, ...] = ()
    # The family reads an empty query value (`?name=`) as no value at all.
    empty_query_is_absent: bool = False


class DocumentedRoute(Route):
    """A route and its OpenAPI entry, declared together. It answers `methods` (default:
    the operation's own; a family that words its own 405 takes them all)."""

    def __init__(
        self,
        operation: Operation,
        endpoint: Any,
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            operation.path, endpoint, methods=list(methods or [operation.method]), name=name
        )
        self.operation = operation

    @property
    def documented_methods(self) -> set[str]:
        """The methods an `Allow` header names for this route: its operation's (GET's
        with HEAD, which Starlette answers alike)."""
        method = self.operation.method
        return {method, "HEAD"} if method == "GET" else {method}


@dataclass(frozen=True)
class FamilyDoc:
    """A family's description and the security schemes its operations name."""

    name: str
    description: str
    security: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def operation(
    method: str,
    path: str,
    family: str,
    request_type: Any = None,
    response_type: Any = None,
    *,
    errors: Mapping[int, Any] | Iterable[int] = (),
    summary: str = "",
    description: str = "",
    query_type: Any = None,
    status: int = 200,
    security: str | None = None,
    request_content_types: tuple[str, ...] = ("application/json",),
    response_content_type: str = "application/json",
    refusal_type: Any = None,
    text_media: tuple[str, ...] = (),
    empty_query_is_absent: bool = False,
) -> Operation:
    """One operation. `errors` maps status → body type (or lists statuses whose body is
    not described); `security` names a scheme of the family's FamilyDoc; `query_type` is
    a msgspec Struct whose fields are the query parameters."""
    error_map = dict(errors) if isinstance(errors, Mapping) else dict.fromkeys(errors)
    return Operation(
        method.upper(),
        path,
        family,
        summary,
        description,
        request_type,
        response_type,
        query_type,
        error_map,
        status,
        security,
        request_content_types,
        response_content_type,
        refusal_type,
        text_media,
        empty_query_is_absent,
    )


def operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    """The operations of the documented routes among `routes`."""
    found = [r.operation for r in routes if isinstance(r, DocumentedRoute)]
    return sorted(found, key=lambda op: (op.family, op.path, op.method))


def fields_doc(summary: str, fields: Mapping[str, str]) -> str:
    """A struct docstring whose `Fields:` section describes each field in the document."""
    lines = [summary, "", "Fields:"] + [f"    {name}: {text}" for name, text in fields.items()]
    return "\n".join(lines)


def _describe_fields(components: dict[str, Any], types: Iterable[Any]) -> None:
    """Moves each struct docstring's `Fields:` section (its bases' too) onto its
    properties, and out of the struct's own description."""
    classes = _struct_classes(types)
    for name, schema in components.items():
        head = _fields_section(schema.get("description", ""))[0]
        if head:
            schema["description"] = head
        else:
            schema.pop("description", None)
        properties = schema.get("properties", {})
        for cls in reversed(getattr(classes.get(name), "__mro__", ())):
            own = cls.__dict__.get("__doc__")
            for field_name, text in _fields_section(own or "")[1].items():
                if field_name in properties:
                    properties[field_name]["description"] = text


def _fields_section(doc: str) -> tuple[str, dict[str, str]]:
    head, _, section = ("\n" + inspect.cleandoc(doc)).partition("\nFields:\n")
    return head.strip(), _field_entries(section)


def _struct_classes(types: Iterable[Any]) -> dict[str, type]:
    """Every Struct class reachable from `types`, by the name its schema has."""
    found: dict[str, type] = {}

    def walk(info: Any) -> None:
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ in found:
                return
            found[info.cls.__name__] = info.cls
            for f in info.fields:
                walk(f.type)
        for attr in ("item_type", "key_type", "value_type", "type"):
            if hasattr(info, attr) and not isinstance(info, msgspec.inspect.StructType):
                walk(getattr(info, attr))
        for inner in getattr(info, "types", ()) + getattr(info, "item_types", ()):
            walk(inner)

    for info in msgspec.inspect.multi_type_info(list(types)):
        walk(info)
    return found


def _field_entries(section: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    current = None
    for line in textwrap.dedent(section).splitlines():
        entry = _FIELD_ENTRY.match(line)
        if entry:
            current = entry.group(1)
            entries[current] = entry.group(2).strip()
        elif current and line.strip():
            entries[current] += " " + line.strip()
    return entries


def document(
    routes: Iterable[BaseRoute],
    families: Iterable[FamilyDoc],
    *,
    title: str = "kurz",
    version: str = "1",
) -> dict[str, Any]:
    """The document of every documented route among `routes`."""
    ops = operations(routes)
    described = {f.name: f for f in families}
    schemes = {name: s for f in described.values() for name, s in f.security.items()}
    types = {t for op in ops for t in _types_of(op)}
    schemas_of, components = msgspec.json.schema_components(
        sorted(types, key=_type_name), ref_template=REF_TEMPLATE
    )
    _describe_fields(components, types)
    schema = dict(zip(sorted(types, key=_type_name), schemas_of, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        openapi_path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", op.path)
        paths.setdefault(openapi_path, {})[op.method.lower()] = _operation(op, schema, components)
    tags = sorted({op.family for op in ops})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "kurz link management: the native API and the vendor-"
            "compatible families, on one domain model.",
        },
        "tags": [
            {"name": f, **({"description": described[f].description} if f in described else {})}
            for f in tags
        ],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": schemes},
    }


def _types_of(op: Operation) -> Iterable[Any]:
    types = (op.request_type, op.response_type, op.query_type, op.refusal_type)
    for t in (*types, *op.errors.values()):
        if t is not None:
            yield t


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", repr(t))


def _operation(op: Operation, schema: dict[Any, Any], components: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tags": [op.family],
        "operationId": f"{op.family}_{op.method.lower()}_{_slug(op.path)}",
        "parameters": _parameters(op, components),
        "responses": _responses(op, schema),
    }
    if op.summary:
        out["summary"] = op.summary
    if op.description:
        out["description"] = op.description
    if op.request_type is not None:
        out["requestBody"] = {
            "required": True,
            "content": {ct: {"schema": schema[op.request_type]} for ct in op.request_content_types},
        }
    if op.security is not None:
        out["security"] = [{op.security: []}]
    if not out["parameters"]:
        del out["parameters"]
    return out


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(_PATH_SCHEMAS[convertor or None]),
        }
        for name, convertor in _PATH_PARAM.findall(op.path)
    ]
    if op.query_type is not None:
        struct = components[_type_name(op.query_type)]
        required = set(struct.get("required", []))
        for name, prop in struct.get("properties", {}).items():
            needed = name in required
            schema = {"anyOf": [prop, _EMPTY]} if op.empty_query_is_absent and not needed else prop
            param = {"name": name, "in": "query", "required": needed, "schema": schema}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    return params


_EMPTY = {"type": "string", "maxLength": 0, "description": "Empty: the same as absent."}


def _responses(op: Operation, schema: dict[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": HTTPStatus(op.status).phrase}
    if op.response_type is not None:
        body = schema[op.response_type]
        if op.refusal_type is not None:
            body = {"anyOf": [body, schema[op.refusal_type]]}
        ok["content"] = {op.response_content_type: {"schema": body}}
        ok["content"].update({media: {"schema": {"type": "string"}} for media in op.text_media})
    responses[str(op.status)] = ok
    for status, body in sorted(op.errors.items()):
        entry: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if body is not None:
            entry["content"] = {"application/json": {"schema": schema[body]}}
        responses[str(status)] = entry
    # The server's own HTTP limits (kurz.http_guard) answer any request, before any
    # family sees it, in plain text: a request target or a head too long.
    for status in (414, 431):
        responses.setdefault(
            str(status),
            {"description": HTTPStatus(status).phrase,
             "content": {"text/plain": {"schema": {"type": "string"}}}},
        )  # fmt: skip
    return responses


async def _openapi_json(request: Request) -> Response:
    """The document create_app built from the app's own routes."""
    body: bytes = request.app.state.openapi_json
    return Response(body, media_type="application/json")


routes = [Route("/openapi.json", _openapi_json, methods=["GET"])]
