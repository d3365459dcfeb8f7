"""The one transaction model: what recording an outcome writes, and how an unknown key is settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from giftcard_connector.commercetools import transactions as txn
from giftcard_connector.money import Money
from giftcard_connector.providers.base import OperationResult, OperationStatus, ProviderUnavailable
from giftcard_connector.providers.mock import MockProvider

SUCCESS = OperationResult(OperationStatus.SUCCESS, reference="red_1")
FAILURE = OperationResult(OperationStatus.FAILURE, message="refused")
PENDING = OperationResult(OperationStatus.PENDING)


def payment(state: str, timestamp: str | None = None) -> dict:
    transaction = {"id": "t1", "type": "Charge", "state": state, "amount": {"centAmount": 100, "currencyCode": "EUR"}}
    transaction["timestamp"] = timestamp or txn.timestamp()
    return {"id": "p1", "version": 3, "transactions": [transaction]}


def test_a_success_records_state_reference_and_optionally_the_interface_id():
    actions = txn.outcome_actions(payment("Initial"), "t1", SUCCESS, interface_id=True)
    assert actions == [
        {"action": "setInterfaceId", "interfaceId": "red_1"},
        {"action": "changeTransactionInteractionId", "transactionId": "t1", "interactionId": "red_1"},
        {"action": "changeTransactionState", "transactionId": "t1", "state": "Success"},
    ]
    assert [a["action"] for a in txn.outcome_actions(payment("Pending"), "t1", SUCCESS, interface_id=False)] == [
        "changeTransactionInteractionId",
        "changeTransactionState",
    ]


def test_a_failure_only_changes_the_state():
    assert txn.outcome_actions(payment("Initial"), "t1", FAILURE, interface_id=True) == [
        {"action": "changeTransactionState", "transactionId": "t1", "state": "Failure"}
    ]


def test_an_unknown_outcome_moves_initial_to_pending_and_leaves_pending_alone():
    assert txn.outcome_actions(payment("Initial"), "t1", PENDING, interface_id=True) == [
        {"action": "changeTransactionState", "transactionId": "t1", "state": "Pending"}
    ]
    assert txn.outcome_actions(payment("Pending"), "t1", PENDING, interface_id=True) == []


@pytest.mark.parametrize("state", ["Success", "Failure"])
def test_a_settled_transaction_is_never_written_again(state):
    for result in (SUCCESS, FAILURE, PENDING):
        assert txn.outcome_actions(payment(state), "t1", result, interface_id=True) == []
    assert txn.outcome_actions(payment("Initial"), "no-such", SUCCESS, interface_id=True) == []


def test_the_provider_key_names_payment_and_transaction():
    assert txn.key_of(payment("Initial"), payment("Initial")["transactions"][0]) == "p1:t1"


async def test_ask_returns_what_the_provider_did():
    provider = MockProvider()
    done = await provider.redeem("Valid-5000-EUR", None, Money(100, "EUR"), "p1:t1")
    p = payment("Pending")
    assert await txn.ask(provider, p, p["transactions"][0], give_up_after=300) == done


async def test_an_unknown_key_is_unknown_while_young_and_a_failure_once_older_than_the_grace_period():
    provider = MockProvider()
    young = payment("Initial")
    assert await txn.ask(provider, young, young["transactions"][0], give_up_after=300) is None
    old_time = txn.timestamp(datetime.now(UTC) - timedelta(seconds=301))
    old = payment("Initial", old_time)
    result = await txn.ask(provider, old, old["transactions"][0], give_up_after=300)
    assert result is not None and result.status is OperationStatus.FAILURE
    assert await txn.ask(provider, old, old["transactions"][0], give_up_after=None) is None


async def test_an_unreachable_provider_is_an_unknown_outcome_never_a_refusal():
    async def unreachable(key: str) -> OperationResult:
        raise ProviderUnavailable("timeout")

    result = await txn.call_provider(unreachable, "p1:t1", attempts=2)
    assert result.status is OperationStatus.PENDING
