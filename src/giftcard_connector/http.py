"""The body size cap, validation with the contract's 400 errors, and a fast JSON response."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from giftcard_connector.validation import contract_error

Model = TypeVar("Model", bound=BaseModel)
# Far above any real request (the largest is a redeem of a few hundred bytes); enforced in edge.py.
MAX_BODY_BYTES = 64 * 1024


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def validate(model: type[Model], data: Any, union_tags: Collection[str] = ()) -> Model:
    """`data` as `model`, or the contract's 400 (RequiredField, InvalidField) for the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise contract_error(error.errors(include_url=False), union_tags) from None
