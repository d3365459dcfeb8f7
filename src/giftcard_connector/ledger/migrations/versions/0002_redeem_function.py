"""PostgreSQL: ledger_redeem(), the happy path of a debit in one round trip.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:30:00

The function checks the API key, the idempotency key, locks the card row, checks PIN hash, status,
expiry, currency and the available amount (balance minus unexpired holds, read after the lock), then
writes the redemption, its entry, the idempotency record (with the reply it returns) and the new
balance. It only ever does the plain successful debit: in every other case (unknown card, wrong PIN,
PIN failures counted or a lockout, refusal, a key already used, ...) it writes nothing and answers
'fallback', and the caller runs the general path (LedgerService.redeem), which owns those rules.
The reply's JSON must stay equal to views.redemption_view | card_view (tests/ledger/test_debits.py).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Python's datetime.isoformat() + "Z": microseconds only when not zero.
_ISO = (
    "to_char({0}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN date_part('microseconds', {0})::bigint % 1000000 = 0 THEN '' ELSE to_char({0}, '.US') END"
    " || 'Z'"
)

REDEEM_FUNCTION = f"""
CREATE FUNCTION ledger_redeem(
    p_key_hash text, p_idem_key text, p_fingerprint text, p_code_hash text, p_pin_hash text,
    p_amount bigint, p_currency text, p_redemption_id text, p_now timestamp, p_now_text text
) RETURNS TABLE (o_outcome text, o_key_id text, o_card_id text, o_body text)
LANGUAGE plpgsql AS $$
DECLARE
    v_key_id text;
    c cards%ROWTYPE;
    v_held bigint;
    v_balance bigint;
    v_body text;
BEGIN
    SELECT a.id INTO v_key_id FROM api_keys a WHERE a.key_hash = p_key_hash AND a.revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unauthorized'::text, NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM idempotency_records r WHERE r.api_key_id = v_key_id AND r.key = p_idem_key) THEN
        RETURN QUERY SELECT 'fallback'::text, v_key_id, NULL::text, NULL::text;
        RETURN;
    END IF;
    -- A card under a running PIN lock is not selected (so not row-locked): it costs what an unknown
    -- code costs, as in cardaccess.lock_card_for_use.
    SELECT * INTO c FROM cards
        WHERE code_hash = p_code_hash AND (pin_locked_until IS NULL OR pin_locked_until <= p_now)
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'fallback'::text, v_key_id, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF c.status <> 'active' OR c.currency <> p_currency
       OR (c.expires_on IS NOT NULL AND c.expires_on < p_now::date)
       OR c.pin_failed_attempts <> 0 OR c.pin_locked_until IS NOT NULL
       OR (c.pin_hash IS NOT NULL AND c.pin_hash IS DISTINCT FROM p_pin_hash) THEN
        RETURN QUERY SELECT 'fallback'::text, v_key_id, c.id::text, NULL::text;
        RETURN;
    END IF;
    -- A new statement, so a new snapshot: holds committed while we waited for the lock are seen.
    SELECT coalesce(sum(h.amount), 0) INTO v_held FROM holds h
        WHERE h.card_id = c.id AND h.status = 'active' AND h.expires_at > p_now;
    IF c.balance - v_held < p_amount THEN
        RETURN QUERY SELECT 'fallback'::text, v_key_id, c.id::text, NULL::text;
        RETURN;
    END IF;
    v_balance := c.balance - p_amount;
    v_body := json_build_object(
        'id', p_redemption_id, 'cardId', c.id, 'kind', 'redeem', 'holdId', NULL,
        'amount', json_build_object('centAmount', p_amount, 'currencyCode', c.currency),
        'refundedAmount', json_build_object('centAmount', 0, 'currencyCode', c.currency),
        'createdAt', p_now_text,
        'card', json_build_object(
            'id', c.id, 'last4', c.last4, 'currency', c.currency, 'status', c.status,
            'balance', json_build_object('centAmount', v_balance, 'currencyCode', c.currency),
            'available', json_build_object('centAmount', v_balance - v_held, 'currencyCode', c.currency),
            'expiresAt', to_char(c.expires_on, 'YYYY-MM-DD'),
            'hasPin', c.pin_hash IS NOT NULL,
            'createdAt', {_ISO.format("c.created_at")}
        )
    )::text;
    INSERT INTO redemptions (id, card_id, kind, amount, currency, refunded_amount, hold_id, created_at)
        VALUES (p_redemption_id, c.id, 'redeem', p_amount, c.currency, 0, NULL, p_now);
    INSERT INTO entries (card_id, kind, amount, balance_after, reference, note, created_at)
        VALUES (c.id, 'redeem', -p_amount, v_balance, p_redemption_id, NULL, p_now);
    INSERT INTO idempotency_records (api_key_id, key, fingerprint, status_code, response_body, created_at)
        VALUES (v_key_id, p_idem_key, p_fingerprint, 201, v_body, p_now);
    UPDATE cards SET balance = v_balance, updated_at = p_now WHERE id = c.id;
    RETURN QUERY SELECT 'ok'::text, v_key_id, c.id::text, v_body;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REDEEM_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS ledger_redeem(text, text, text, text, text, bigint, text, text, timestamp, text)"
        )
