"""docs/openapi.json is what the app serves, and it describes the API faithfully."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from giftcard_devkit.openapi import DEFAULT_PATH, document, render


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def test_committed_document_is_current() -> None:
    committed = Path(DEFAULT_PATH).read_text()
    assert json.loads(committed) == json.loads(render()), "docs/openapi.json is stale: run `make openapi`"


def test_request_bodies_are_typed_and_the_actions_are_a_discriminated_union(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for path, schema in (
        ("/balance", "BalanceRequest"),
        ("/redeem", "RedeemRequest"),
        ("/operations/payment-intents/{paymentId}", "PaymentIntentRequest"),
    ):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{schema}"}
    actions = spec["components"]["schemas"]["PaymentIntentRequest"]["properties"]["actions"]
    assert (actions["minItems"], actions["maxItems"]) == (1, 1)
    assert actions["items"]["discriminator"]["propertyName"] == "action"
    assert set(actions["items"]["discriminator"]["mapping"]) == {
        "capturePayment",
        "refundPayment",
        "cancelPayment",
        "reversePayment",
    }


def test_responses_have_models_and_no_422_the_app_never_sends(spec: dict[str, Any]) -> None:
    text = json.dumps(spec)
    assert '"422"' not in text and "HTTPValidationError" not in text
    answers = {
        ("/balance", "post"): "BalanceResponse",
        ("/redeem", "post"): "RedeemResponse",
        ("/enabler/config", "get"): "EnablerConfigResponse",
        ("/operations/status", "get"): "StatusResponse",
        ("/operations/payment-intents/{paymentId}", "post"): "PaymentIntentResponse",
        ("/health", "get"): "HealthResponse",
        ("/ready", "get"): "ReadinessResponse",
    }
    for (path, method), model in answers.items():
        ok = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}, path
    redeem_400 = spec["paths"]["/redeem"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in redeem_400["anyOf"]} == {"ErrorBody", "GiftCardErrorBody"}
    intents = spec["paths"]["/operations/payment-intents/{paymentId}"]["post"]["responses"]
    assert intents["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_security_schemes_for_session_jwt_and_oauth2(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["CheckoutSession"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session-Id",
        "description": schemes["CheckoutSession"]["description"],
    }
    assert (schemes["MerchantCenterJWT"]["scheme"], schemes["MerchantCenterJWT"]["bearerFormat"]) == ("bearer", "JWT")
    assert "clientCredentials" in schemes["CheckoutOAuth2"]["flows"]
    security = {
        (path, method): operation.get("security")
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }
    assert security[("/balance", "post")] == [{"CheckoutSession": []}]
    assert security[("/redeem", "post")] == [{"CheckoutSession": []}]
    assert security[("/enabler/config", "get")] == [{"CheckoutSession": []}]
    assert security[("/operations/status", "get")] == [{"MerchantCenterJWT": []}]
    assert security[("/operations/payment-intents/{paymentId}", "post")] == [{"CheckoutOAuth2": []}]
    assert security[("/health", "get")] is None and security[("/ready", "get")] is None


def test_redeem_documents_its_idempotency_key_header(spec: dict[str, Any]) -> None:
    parameters = spec["paths"]["/redeem"]["post"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("Idempotency-Key", "header", False)]
