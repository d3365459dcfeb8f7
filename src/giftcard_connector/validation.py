"""The contract's 400 bodies (section 5) for every request that does not validate.

FastAPI validates typed parameters (bodies, paths, headers) and raises RequestValidationError; pydantic
raises ValidationError where a model is checked by hand. Both lists of errors become one ApiError:
- the body is not JSON, empty, or not an object: InvalidJsonInput;
- a field is missing: RequiredField with `field`;
- a field has a wrong value: InvalidField with `field`.
`field` is the dotted path inside the body (`redeemAmount.centAmount`, `actions.0.amount`), or the
parameter's name for a path or header parameter (`paymentId`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from giftcard_connector.errors import ApiError, InvalidField, InvalidJsonInput, RequiredField

_WHERE = frozenset({"body", "path", "header", "query", "cookie"})
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})


def contract_error(errors: Sequence[Mapping[str, Any]], union_tags: Collection[str] = ()) -> ApiError:
    """The first error as the contract's body. `union_tags`: tag values of discriminated unions, which
    pydantic puts into the location of a member's errors (`actions.0.capturePayment.amount`)."""
    if not errors:
        return InvalidJsonInput("The request is not valid")
    first = errors[0]
    kind = str(first.get("type", ""))
    loc = tuple(first.get("loc", ()))
    if kind == "json_invalid":
        return InvalidJsonInput("Request body is not valid JSON")
    where = loc[0] if loc and loc[0] in _WHERE else None
    path = loc[1:] if where is not None else loc
    if where == "body" and not path:
        if kind == "missing":
            return InvalidJsonInput("Request body is empty; a JSON object is required")
        return InvalidJsonInput("Request body must be a JSON object")
    field = _field(path, union_tags)
    if kind in ("missing", "union_tag_not_found"):
        if kind == "union_tag_not_found":
            field = f"{field}.{_discriminator(first)}"
        return RequiredField(field)
    if kind == "union_tag_invalid":
        tag = first.get("ctx", {}).get("tag")
        expected = first.get("ctx", {}).get("expected_tags", "")
        field = f"{field}.{_discriminator(first)}"
        return InvalidField(field, f"Unknown {field.rsplit('.', 1)[-1]} {tag!r}; expected one of {expected}")
    if kind in _NOT_AN_OBJECT:
        return InvalidField(field, f"'{field}' must be a JSON object")
    return InvalidField(field, f"Invalid value for '{field}': {first.get('msg', 'invalid value')}")


def _field(path: Sequence[Any], union_tags: Collection[str]) -> str:
    parts: list[str] = []
    for index, part in enumerate(path):
        # A tag right after a list index, with the member's field after it, is the union's, not a field.
        after_index = index > 0 and isinstance(path[index - 1], int) and index < len(path) - 1
        if after_index and part in union_tags:
            continue
        parts.append(str(part))
    return ".".join(parts) or "body"


def _discriminator(error: Mapping[str, Any]) -> str:
    # pydantic reports it quoted: "'action'".
    return str(error.get("ctx", {}).get("discriminator", "'type'")).strip("'\"")
