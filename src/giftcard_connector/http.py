"""Request body parsing with the contract's 4xx errors, and a fast JSON response."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from giftcard_connector.errors import InvalidField, InvalidJsonInput, RequiredField

Model = TypeVar("Model", bound=BaseModel)
# Far above any real request (the largest is a redeem of a few hundred bytes); enforced in edge.py.
MAX_BODY_BYTES = 64 * 1024


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise InvalidJsonInput("Request body is empty; a JSON object is required")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJsonInput("Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidJsonInput("Request body must be a JSON object")
    return data


async def parse_body(request: Request, model: type[Model]) -> Model:
    return validate(model, await read_json_object(request))


def validate(model: type[Model], data: dict[str, Any]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "missing":
            raise RequiredField(field) from None
        raise InvalidField(field, f"Invalid value for '{field}': {first['msg']}") from None
