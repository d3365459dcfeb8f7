"""Error types and the response bodies of contract section 5."""

from __future__ import annotations

from typing import Any

from giftcard_connector.providers.base import BalanceState


class ApiError(Exception):
    """A request that cannot be served; rendered as the general error body."""

    def __init__(self, status_code: int, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "statusCode": self.status_code,
            "errors": [{"code": self.code, "message": self.message, **self.fields}],
        }


class InvalidJsonInput(ApiError):
    def __init__(self, message: str = "Request body must be a JSON object") -> None:
        super().__init__(400, "InvalidJsonInput", message)


class RequiredField(ApiError):
    def __init__(self, field: str) -> None:
        super().__init__(400, "RequiredField", f"The field '{field}' is required", field=field)


class InvalidField(ApiError):
    def __init__(self, field: str, message: str, **fields: Any) -> None:
        super().__init__(400, "InvalidField", message, field=field, **fields)


class AuthError(ApiError):
    """401/403 with the OAuth-style top-level `error` and `error_description` fields."""

    def __init__(self, code: str, message: str, status_code: int = 401) -> None:
        super().__init__(status_code, code, message)

    def body(self) -> dict[str, Any]:
        return {**super().body(), "error": self.code, "error_description": self.message}


class SessionNotActive(AuthError):
    def __init__(self) -> None:
        super().__init__("AuthErrorResponse", "Session is not active")


class UpstreamError(ApiError):
    """commercetools answered an error: keep its status code and pass its errors on as a list."""

    def __init__(self, status_code: int, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(status_code, errors[0].get("code", "General") if errors else "General", message)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "statusCode": self.status_code, "errors": self.errors}


class ServiceUnavailable(ApiError):
    def __init__(self, message: str, code: str = "ServiceUnavailable", status_code: int = 503) -> None:
        super().__init__(status_code, code, message)


class GiftCardError(Exception):
    """A gift card business outcome that is not a success (balance and redeem)."""

    def __init__(self, state: BalanceState, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.state = state
        self.message = message
        self.status_code = status_code or (404 if state is BalanceState.NOT_FOUND else 400)

    def body(self) -> dict[str, Any]:
        return {
            "status": {
                "state": self.state.value,
                "errors": [{"code": self.state.value, "message": self.message}],
            }
        }
