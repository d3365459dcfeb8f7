"""Writes the Processor's OpenAPI document to docs/openapi.json (`make openapi`).

The document does not depend on the configuration; the settings here are placeholders that only let
the app be built. tests/unit/test_openapi.py fails when the committed file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from giftcard_connector.app import create_app
from giftcard_connector.settings import Settings

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
_PLACEHOLDER = "https://commercetools.invalid"


def document() -> dict[str, Any]:
    settings = Settings(
        CTP_PROJECT_KEY="project",
        CTP_CLIENT_ID="client",
        CTP_CLIENT_SECRET="secret",
        CTP_AUTH_URL=_PLACEHOLDER,
        CTP_API_URL=_PLACEHOLDER,
        CTP_SESSION_URL=_PLACEHOLDER,
        CTP_JWKS_URL=_PLACEHOLDER,
        CTP_JWT_ISSUER=_PLACEHOLDER,
    )
    return create_app(settings).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
