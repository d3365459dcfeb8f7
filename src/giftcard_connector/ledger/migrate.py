"""Bring a ledger database up to date with the Alembic migrations bundled in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from giftcard_connector.ledger.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    # No alembic.ini: the script location is inside the installed package.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def migrate(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade)
