"""`giftcard-connector serve`: settings from the environment, then uvicorn (uvloop + httptools)."""

from __future__ import annotations

import sys

import uvicorn

from giftcard_connector.log import configure_logging
from giftcard_connector.settings import ConfigurationError, load_settings


def serve() -> int:
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(str(error), file=sys.stderr)
        return 2
    configure_logging(settings.LOG_LEVEL)
    from giftcard_connector.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.HOST,
        port=settings.PORT,
        loop="uvloop",
        http="httptools",
        log_level=settings.LOG_LEVEL.lower(),
        access_log=False,
        server_header=False,
    )
    return 0
