"""Split captures: a hold can be captured several times up to its amount.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 20:55:00

- holds.captured_amount: what the hold's captures debited so far. A hold keeps only its uncaptured rest
  (amount - captured_amount) from the available balance, while it is active and unexpired.
- redemptions.hold_id is no longer UNIQUE (each capture is its own redemption); it stays indexed.
- ledger_redeem (PostgreSQL) is replaced with the same function, except that its hold sum counts the
  uncaptured rest, so a partially captured hold is not counted twice (the captured part is in the balance).
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BEFORE = importlib.import_module("giftcard_connector.ledger.migrations.versions.0002_redeem_function")
_OLD_SUM = "SELECT coalesce(sum(h.amount), 0) INTO v_held FROM holds h"
_NEW_SUM = "SELECT coalesce(sum(h.amount - h.captured_amount), 0) INTO v_held FROM holds h"
assert _OLD_SUM in _BEFORE.REDEEM_FUNCTION
_OLD_FUNCTION = _BEFORE.REDEEM_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
REDEEM_FUNCTION = _OLD_FUNCTION.replace(_OLD_SUM, _NEW_SUM)


def upgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("captured_amount", sa.BigInteger(), nullable=False, server_default="0"))
    # A hold captured before this migration was captured once, for its redemption's amount.
    op.execute(
        "UPDATE holds SET captured_amount = (SELECT r.amount FROM redemptions r WHERE r.hold_id = holds.id)"
        " WHERE status = 'captured' AND redemption_id IS NOT NULL"
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_redemptions_hold_id", type_="unique")
        batch_op.create_index("ix_redemptions_hold_id", ["hold_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REDEEM_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_OLD_FUNCTION)
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_hold_id")
        batch_op.create_unique_constraint("uq_redemptions_hold_id", ["hold_id"])
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("captured_amount")
