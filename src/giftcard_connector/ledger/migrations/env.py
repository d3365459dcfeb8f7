"""Alembic environment: runs on the connection handed over by giftcard_connector.ledger.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from giftcard_connector.ledger.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations with `giftcard-connector ledger migrate`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
