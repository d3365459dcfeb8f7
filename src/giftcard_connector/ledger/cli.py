"""`giftcard-connector ledger ...`: admin commands working directly on LEDGER_DATABASE_URL.

Every command accepts --json and then prints exactly one JSON document on stdout (errors included,
as {"error": {...}}). Exit status: 0 done, 1 refused (unknown card, ...), 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from giftcard_connector.ledger.apikeys import Role, create_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.errors import Reply
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.models import CardStatus
from giftcard_connector.ledger.service import LedgerService, utcnow
from giftcard_connector.ledger.settings import LedgerConfigError, LedgerSettings
from giftcard_connector.ledger.wiring import build_service, open_database
from giftcard_connector.money import Money, is_currency_code


class UsageError(Exception):
    pass


def _emit(args: argparse.Namespace, document: Any, text: str) -> None:
    if args.json:
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(text + "\n")


def _money_text(value: dict[str, Any]) -> str:
    return f"{value['centAmount']} {value['currencyCode']} (minor units)"


def _card_text(card: dict[str, Any]) -> str:
    lines = []
    if card.get("code"):
        lines.append(f"code:      {card['code']}")
    lines += [
        f"last4:     {card['last4']}",
        f"status:    {card['status']}",
        f"balance:   {_money_text(card['balance'])}",
        f"available: {_money_text(card['available'])}",
        f"expires:   {card['expiresAt'] or 'never'}",
        f"pin:       {'yes' if card['hasPin'] else 'no'}",
    ]
    if card.get("pinLockedUntil"):
        lines.append(f"locked until: {card['pinLockedUntil']}")
    return "\n".join(lines)


async def _with_database(settings: LedgerSettings, work: Callable[[Database], Awaitable[int]]) -> int:
    database = open_database(settings)
    try:
        await migrate(database)
        return await work(database)
    finally:
        await database.dispose()


def _refused(args: argparse.Namespace, reply: Reply) -> int:
    error = reply.body.get("error", {})
    if args.json:
        _emit(args, reply.body, "")
    else:
        sys.stderr.write(f"error: {error.get('code')}: {error.get('message')}\n")
    return 1


def _run_service(
    args: argparse.Namespace,
    settings: LedgerSettings,
    call: Callable[[LedgerService], Awaitable[Reply]],
    show: Callable[[Reply], tuple[Any, str]],
) -> int:
    async def work(database: Database) -> int:
        reply = await call(build_service(settings, database))
        if reply.status >= 400:
            return _refused(args, reply)
        document, text = show(reply)
        _emit(args, document, text)
        return 0

    return asyncio.run(_with_database(settings, work))


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of minor units")
    return number


def _currency(value: str) -> str:
    if not is_currency_code(value):
        raise argparse.ArgumentTypeError("must be an ISO 4217 code such as EUR")
    return value


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError("must be a date YYYY-MM-DD") from error


# -- commands ------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace, settings: LedgerSettings) -> int:
    async def work(_: Database) -> int:
        _emit(args, {"status": "ok"}, "ledger database is up to date")
        return 0

    return asyncio.run(_with_database(settings, work))


def cmd_keys_create(args: argparse.Namespace, settings: LedgerSettings) -> int:
    async def work(database: Database) -> int:
        async with database.transaction() as session:
            plaintext, record = await create_key(session, Role(args.role), args.label, utcnow())
        document = {"id": record.id, "role": record.role, "label": record.label, "key": plaintext}
        _emit(args, document, f"{record.role} key {record.id} (shown once, store it now):\n{plaintext}")
        return 0

    return asyncio.run(_with_database(settings, work))


def cmd_issue(args: argparse.Namespace, settings: LedgerSettings) -> int:
    if args.pin is not None and not (args.pin.isdigit() and 4 <= len(args.pin) <= 12):
        raise UsageError("--pin must be 4 to 12 digits")
    count = 1 if args.count is None else args.count

    def show(reply: Reply) -> tuple[Any, str]:
        cards = reply.body["cards"]
        document = cards if args.count is not None else cards[0]
        return document, "\n\n".join(_card_text(card) for card in cards)

    return _run_service(
        args,
        settings,
        lambda service: service.issue(
            Money(args.amount, args.currency), pin=args.pin, expires_on=args.expires, count=count
        ),
        show,
    )


def _card_reply(reply: Reply) -> tuple[Any, str]:
    return reply.body["card"], _card_text(reply.body["card"])


def cmd_show(args: argparse.Namespace, settings: LedgerSettings) -> int:
    return _run_service(args, settings, lambda service: service.lookup(args.code), _card_reply)


def cmd_history(args: argparse.Namespace, settings: LedgerSettings) -> int:
    def show(reply: Reply) -> tuple[Any, str]:
        entries = reply.body["entries"]
        lines = [
            f"{e['createdAt']}  {e['kind']:<8} {e['amount']['centAmount']:>12}  "
            f"balance {e['balanceAfter']['centAmount']:>12}  {e['reference'] or ''}"
            for e in entries
        ]
        return entries, "\n".join(lines) or "no entries"

    return _run_service(args, settings, lambda service: service.history(args.code), show)


def cmd_reload(args: argparse.Namespace, settings: LedgerSettings) -> int:
    async def call(service: LedgerService) -> Reply:
        found = await service.lookup(args.code)
        if found.status >= 400:
            return found
        currency = str(found.body["card"]["currency"])
        return await service.reload(args.code, Money(args.amount, currency))

    return _run_service(args, settings, call, _card_reply)


def cmd_adjust(args: argparse.Namespace, settings: LedgerSettings) -> int:
    if args.amount == 0:
        raise UsageError("--amount must not be zero")

    async def call(service: LedgerService) -> Reply:
        found = await service.lookup(args.code)
        if found.status >= 400:
            return found
        currency = str(found.body["card"]["currency"])
        return await service.adjust(args.code, Money(args.amount, currency), args.note)

    return _run_service(args, settings, call, _card_reply)


def cmd_set_status(status: str) -> Callable[[argparse.Namespace, LedgerSettings], int]:
    def command(args: argparse.Namespace, settings: LedgerSettings) -> int:
        return _run_service(args, settings, lambda service: service.set_status(args.code, status), _card_reply)

    return command


def cmd_serve(args: argparse.Namespace, settings: LedgerSettings) -> int:
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    from giftcard_connector.ledger.server import serve  # the web stack only when serving

    return serve(settings)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print exactly one JSON document on stdout")
    parser = argparse.ArgumentParser(prog="giftcard-connector ledger", description=__doc__, parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace, LedgerSettings], int], helptext: str) -> Any:
        sub = commands.add_parser(name, help=helptext, parents=[common])
        sub.set_defaults(handler=handler)
        return sub

    serve_cmd = add("serve", cmd_serve, "run the ledger HTTP API (LEDGER_HOST, LEDGER_PORT)")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    add("migrate", cmd_migrate, "bring the database up to date")

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key (printed once)", parents=[common])
    create.add_argument("--role", choices=[role.value for role in Role], required=True)
    create.add_argument("--label")
    create.set_defaults(handler=cmd_keys_create)

    issue = add("issue", cmd_issue, "issue new cards")
    issue.add_argument("--amount", type=int, required=True, help="initial balance in minor units")
    issue.add_argument("--currency", type=_currency, required=True)
    issue.add_argument("--pin", help="4 to 12 digits")
    issue.add_argument("--expires", type=_date, help="last day the card can be used (YYYY-MM-DD, UTC)")
    issue.add_argument("--count", type=_positive, help="issue N cards (JSON: a list)")

    for name, handler, helptext in (
        ("show", cmd_show, "show a card"),
        ("history", cmd_history, "list a card's entries"),
        ("deactivate", cmd_set_status(CardStatus.DISABLED), "disable a card"),
        ("activate", cmd_set_status(CardStatus.ACTIVE), "enable a card again (also lifts a PIN lock)"),
    ):
        add(name, handler, helptext).add_argument("code")
    reload = add("reload", cmd_reload, "add money to a card")
    reload.add_argument("code")
    reload.add_argument("--amount", type=_positive, required=True, help="minor units")
    adjust = add("adjust", cmd_adjust, "correct a balance (negative amounts debit)")
    adjust.add_argument("code")
    adjust.add_argument("--amount", type=int, required=True, help="signed minor units")
    adjust.add_argument("--note")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "amount", 0) is not None and args.command == "issue" and args.amount < 0:
        parser.error("--amount must not be negative")
    try:
        settings = LedgerSettings()
        return int(args.handler(args, settings))
    except (LedgerConfigError, UsageError, ValueError) as error:
        if args.json:
            _emit(args, {"error": {"code": "usage", "message": str(error)}}, "")
        else:
            sys.stderr.write(f"error: {error}\n")
        return 2
