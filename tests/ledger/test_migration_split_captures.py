"""Migration 0003 on a ledger that already holds data (SQLite; PostgreSQL runs it in every ledger test)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from giftcard_connector.ledger.migrate import alembic_config

_NOW = "2026-11-28 20:00:00"


def _rows(connection: sa.Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in connection.execute(sa.text(sql))]


def test_0003_counts_old_captures_and_allows_several_captures_per_hold(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.execute(
            sa.text(
                "INSERT INTO cards (id, code_hash, last4, currency, balance, status, pin_failed_attempts,"
                " created_at, updated_at) VALUES ('crd_1', 'h', 'ABCD', 'EUR', 500, 'active', 0, :t, :t)"
            ),
            {"t": _NOW},
        )
        for hold, status, redemption in (("hld_c", "captured", "red_c"), ("hld_a", "active", None)):
            connection.execute(
                sa.text(
                    "INSERT INTO holds (id, card_id, amount, currency, status, expires_at, redemption_id,"
                    " created_at, updated_at) VALUES (:id, 'crd_1', 700, 'EUR', :s, :t, :r, :t, :t)"
                ),
                {"id": hold, "s": status, "r": redemption, "t": _NOW},
            )
        connection.execute(
            sa.text(
                "INSERT INTO redemptions (id, card_id, kind, amount, currency, refunded_amount, hold_id, created_at)"
                " VALUES ('red_c', 'crd_1', 'capture', 500, 'EUR', 0, 'hld_c', :t)"
            ),
            {"t": _NOW},
        )
        command.upgrade(alembic_config(connection), "head")
        assert _rows(connection, "SELECT id, captured_amount FROM holds ORDER BY id") == [("hld_a", 0), ("hld_c", 500)]
        # A second redemption of one hold is now allowed (split captures).
        connection.execute(
            sa.text(
                "INSERT INTO redemptions (id, card_id, kind, amount, currency, refunded_amount, hold_id, created_at)"
                " VALUES ('red_d', 'crd_1', 'capture', 100, 'EUR', 0, 'hld_a', :t),"
                " ('red_e', 'crd_1', 'capture', 100, 'EUR', 0, 'hld_a', :t)"
            ),
            {"t": _NOW},
        )
        indexes = {ix["name"]: ix for ix in sa.inspect(connection).get_indexes("redemptions")}
        assert indexes["ix_redemptions_hold_id"]["unique"] == 0
        assert not sa.inspect(connection).get_unique_constraints("redemptions")
    engine.dispose()


def test_0003_downgrade_restores_the_unique_capture(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
        command.downgrade(alembic_config(connection), "0002")
        assert "captured_amount" not in {c["name"] for c in sa.inspect(connection).get_columns("holds")}
        uniques = sa.inspect(connection).get_unique_constraints("redemptions")
        assert [u["column_names"] for u in uniques] == [["hold_id"]]
    engine.dispose()
