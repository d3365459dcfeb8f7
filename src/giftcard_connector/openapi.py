"""The Processor's OpenAPI document as the app really answers (committed as docs/openapi.json).

FastAPI documents a 422 with its own validation body on every route with parameters; this app never
sends it: the validation handler answers the contract's 400 (validation.py). So each 422 becomes that
400 (unless the route documents its 400 already) and FastAPI's validation schemas go.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_BAD_REQUEST = {
    "description": "Invalid request: body not JSON (InvalidJsonInput), a field missing (RequiredField) or wrong "
    "(InvalidField)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def contract_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses", {})
            if answers.pop("422", None) is not None:
                answers.setdefault("400", _BAD_REQUEST)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    assert "ErrorBody" in schemas, "some route documents the general error body (responses.ErrorBody)"
    app.openapi_schema = document
    return document
