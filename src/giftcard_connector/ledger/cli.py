"""`giftcard-connector ledger ...`: operator commands working directly on LEDGER_DATABASE_URL.

Amounts are typed and shown in major units with the currency's digits (50.00 EUR, 5000 JPY, 1.250 KWD);
--minor switches both to whole minor units, for scripts. A CARD is its code, its id (crd_...) or the
last four characters of its code (receipts and logs show those); when several cards end in the same
four, they are listed and nothing is done. --json, anywhere on the line, prints exactly one JSON document
on stdout, errors included ({"error": {"code": ..., "message": ...}}).

Exit status: 0 done; 1 refused (unknown card, several matches, insufficient funds, ...); 2 bad usage or
settings; 3 database unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson
from sqlalchemy.exc import DBAPIError

from giftcard_connector.ledger.amounts import AmountError, check_currency, format_amount, parse_amount
from giftcard_connector.ledger.apikeys import Role, create_key, list_keys, revoke_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.errors import Reply
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.models import CardStatus
from giftcard_connector.ledger.service import MAX_ISSUE_COUNT, CardQuery, LedgerService, utcnow
from giftcard_connector.ledger.settings import (
    LedgerConfigError,
    LedgerSettings,
    ledger_variables_help,
    load_ledger_settings,
)
from giftcard_connector.ledger.wiring import build_service, open_database
from giftcard_connector.money import Money

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
PAGE_SIZE = 50


class UsageError(Exception):
    """Bad command line input; exit 2."""


@dataclass
class Refused(Exception):
    """The ledger said no (unknown card, several matches, ...); exit 1."""

    code: str
    message: str
    details: dict[str, Any] | None = None


class Parser(argparse.ArgumentParser):
    """argparse, but its errors reach main() (which prints them as text or as JSON) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


@dataclass(frozen=True)
class Output:
    json: bool
    minor: bool

    def emit(self, document: Any, text: str) -> None:
        if self.json:
            sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            sys.stdout.write(text + "\n")

    def error(self, code: str, message: str, details: dict[str, Any] | None = None, text: str = "") -> None:
        if self.json:
            body: dict[str, Any] = {"code": code, "message": message}
            if details:
                body |= details
            self.emit({"error": body}, "")
        else:
            if text:
                sys.stdout.write(text + "\n")
            sys.stderr.write(f"error: {message}\n")

    def money(self, value: dict[str, Any]) -> str:
        return format_amount(int(value["centAmount"]), str(value["currencyCode"]), minor=self.minor)


# -- text shapes ---------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> str:
    """Columns padded to their widest cell; columns in `right` (amounts) aligned right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(cell).rjust(width) if i in right else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def _when(value: str | None) -> str:
    """`2026-11-28T19:30:00.123456Z` -> `2026-11-28 19:30:00` (UTC)."""
    return value.replace("T", " ")[:19] if value else ""


def card_text(card: dict[str, Any], out: Output) -> str:
    pin = "no"
    if card["hasPin"]:
        pin = "yes"
        if card.get("pinLockedUntil"):
            pin += f", locked until {_when(card['pinLockedUntil'])} UTC"
        elif card.get("pinFailedAttempts"):
            pin += f", {card['pinFailedAttempts']} wrong attempt(s)"
    pairs = [("code", card["code"])] if card.get("code") else []
    pairs += [
        ("id", card["id"]),
        ("last four", card["last4"]),
        ("status", card["status"]),
        ("balance", out.money(card["balance"])),
        ("available", out.money(card["available"])),
        ("expires", card["expiresAt"] or "never"),
        ("PIN", pin),
        ("issued", f"{_when(card['createdAt'])} UTC"),
    ]
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in pairs)


def cards_table(cards: list[dict[str, Any]], out: Output) -> str:
    rows = [
        [
            card["id"],
            card["last4"],
            card["status"],
            out.money(card["balance"]),
            out.money(card["available"]),
            card["expiresAt"] or "never",
            _when(card["createdAt"]),
        ]
        for card in cards
    ]
    headers = ["ID", "LAST4", "STATUS", "BALANCE", "AVAILABLE", "EXPIRES", "ISSUED (UTC)"]
    return table(headers, rows, right=frozenset({3, 4}))


# -- running against the database ----------------------------------------------------------------


def _run(settings: LedgerSettings, work: Callable[[Database], Awaitable[int]]) -> int:
    async def with_database() -> int:
        database = open_database(settings)
        try:
            await migrate(database)
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(with_database())


def _checked(reply: Reply) -> dict[str, Any]:
    if reply.status >= 400:
        error = dict(reply.body.get("error", {}))
        code, message = str(error.pop("code", "refused")), str(error.pop("message", "refused"))
        raise Refused(code, message, error or None)
    return reply.body


def _masked(reference: str) -> str:
    """What an error message may repeat of a card reference: never a whole code."""
    if reference.startswith("crd_") or len(reference) <= 4:
        return reference
    return "…" + reference.replace("-", "")[-4:]


async def resolve(service: LedgerService, reference: str, out: Output) -> dict[str, Any]:
    """The one card `reference` names (code, id or last four), or Refused listing what matched."""
    found = _checked(await service.find_cards(reference))
    cards: list[dict[str, Any]] = found["cards"]
    if not cards:
        raise Refused("not_found", f"no card matches {_masked(reference)}")
    if len(cards) > 1:
        raise Refused(
            "ambiguous",
            f"{len(cards)} cards end in {reference.upper()}: name one by its id or code",
            {"matches": cards},
        )
    return cards[0]


def _service_command(
    args: argparse.Namespace, out: Output, work: Callable[[LedgerService], Awaitable[tuple[Any, str]]]
) -> int:
    settings = load_ledger_settings()

    async def run(database: Database) -> int:
        document, text = await work(build_service(settings, database))
        out.emit(document, text)
        return EXIT_OK

    return _run(settings, run)


# -- commands ------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, out: Output) -> int:
    settings = load_ledger_settings()
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if args.workers:
        settings.workers = args.workers
    from giftcard_connector.ledger.server import serve  # the web stack only when serving

    return serve(settings)


def cmd_migrate(args: argparse.Namespace, out: Output) -> int:
    async def work(_: Database) -> int:
        out.emit({"status": "ok"}, "ledger database is up to date")
        return EXIT_OK

    return _run(load_ledger_settings(need_secret=False), work)


def cmd_keys_create(args: argparse.Namespace, out: Output) -> int:
    async def work(database: Database) -> int:
        async with database.transaction() as session:
            plaintext, record = await create_key(session, Role(args.role), args.label, utcnow())
        document = {"id": record.id, "role": record.role, "label": record.label, "key": plaintext}
        out.emit(document, f"{record.role} key {record.id} (shown once, store it now):\n{plaintext}")
        return EXIT_OK

    return _run(load_ledger_settings(need_secret=False), work)


def _key_view(record: Any) -> dict[str, Any]:
    def stamp(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    return {
        "id": record.id,
        "prefix": record.prefix,
        "role": record.role,
        "label": record.label,
        "createdAt": stamp(record.created_at),
        "revokedAt": stamp(record.revoked_at),
    }


def cmd_keys_list(args: argparse.Namespace, out: Output) -> int:
    async def work(database: Database) -> int:
        async with database.transaction() as session:
            keys = [_key_view(record) for record in await list_keys(session)]
        rows = [
            [
                key["id"],
                key["prefix"] + "…",
                key["role"],
                key["label"] or "",
                _when(key["createdAt"]),
                _when(key["revokedAt"]) or "-",
            ]
            for key in keys
        ]
        text = table(["ID", "PREFIX", "ROLE", "LABEL", "CREATED (UTC)", "REVOKED (UTC)"], rows) if keys else "no keys"
        out.emit({"keys": keys}, text)
        return EXIT_OK

    return _run(load_ledger_settings(need_secret=False), work)


def cmd_keys_revoke(args: argparse.Namespace, out: Output) -> int:
    async def work(database: Database) -> int:
        async with database.transaction() as session:
            record = await revoke_key(session, args.key, utcnow())
            view = None if record is None else _key_view(record)
        if view is None:
            raise Refused("not_found", f"no single key has the id or prefix {args.key!r} (see: keys list)")
        out.emit(view, f"key {view['id']} ({view['role']}) revoked at {_when(view['revokedAt'])} UTC")
        return EXIT_OK

    return _run(load_ledger_settings(need_secret=False), work)


def cmd_issue(args: argparse.Namespace, out: Output) -> int:
    if args.pin is not None and not (args.pin.isdigit() and 4 <= len(args.pin) <= 12):
        raise UsageError("--pin must be 4 to 12 digits")
    cents = _amount(args.amount, args.currency, out)

    async def work(service: LedgerService) -> tuple[Any, str]:
        reply = await service.issue(
            Money(cents, args.currency), pin=args.pin, expires_on=args.expires, count=args.count or 1
        )
        cards = _checked(reply)["cards"]
        document = cards if args.count is not None else cards[0]
        return document, "\n\n".join(card_text(card, out) for card in cards)

    return _service_command(args, out, work)


def cmd_show(args: argparse.Namespace, out: Output) -> int:
    async def work(service: LedgerService) -> tuple[Any, str]:
        card = await resolve(service, args.card, out)
        return card, card_text(card, out)

    return _service_command(args, out, work)


def cmd_history(args: argparse.Namespace, out: Output) -> int:
    async def work(service: LedgerService) -> tuple[Any, str]:
        card = await resolve(service, args.card, out)
        body = _checked(await service.history(card["id"]))
        entries = body["entries"]
        rows = [
            [
                _when(entry["createdAt"]),
                entry["kind"],
                out.money(entry["amount"]),
                out.money(entry["balanceAfter"]),
                entry["reference"] or "",
                entry["note"] or "",
            ]
            for entry in entries
        ]
        heading = f"card {card['id']} (…{card['last4']}), {card['status']}, balance {out.money(card['balance'])}"
        headers = ["WHEN (UTC)", "KIND", "AMOUNT", "BALANCE AFTER", "REFERENCE", "NOTE"]
        text = heading + "\n\n" + (table(headers, rows, right=frozenset({2, 3})) if rows else "no entries")
        return body, text

    return _service_command(args, out, work)


def _change(
    args: argparse.Namespace, out: Output, call: Callable[[LedgerService, dict[str, Any]], Awaitable[Reply]]
) -> int:
    async def work(service: LedgerService) -> tuple[Any, str]:
        card = await resolve(service, args.card, out)
        changed = _checked(await call(service, card))["card"]
        return changed, card_text(changed, out)

    return _service_command(args, out, work)


def cmd_reload(args: argparse.Namespace, out: Output) -> int:
    async def call(service: LedgerService, card: dict[str, Any]) -> Reply:
        cents = _amount(args.amount, card["currency"], out)
        return await service.reload(card["id"], Money(cents, card["currency"]))

    return _change(args, out, call)


def cmd_adjust(args: argparse.Namespace, out: Output) -> int:
    async def call(service: LedgerService, card: dict[str, Any]) -> Reply:
        cents = _amount(args.amount, card["currency"], out, signed=True)
        return await service.adjust(card["id"], Money(cents, card["currency"]), args.note)

    return _change(args, out, call)


def cmd_set_status(status: str) -> Callable[[argparse.Namespace, Output], int]:
    def command(args: argparse.Namespace, out: Output) -> int:
        return _change(args, out, lambda service, card: service.set_status(card["id"], status))

    return command


def cmd_unlock(args: argparse.Namespace, out: Output) -> int:
    return _change(args, out, lambda service, card: service.unlock(card["id"]))


def cmd_cards_list(args: argparse.Namespace, out: Output) -> int:
    def bound(text: str | None) -> int | None:
        if text is None:
            return None
        if args.currency is None and not out.minor:
            raise UsageError("--min-balance/--max-balance need --currency (or --minor for minor units)")
        value = text.strip()
        if value.strip("0.") == "" and value:
            return 0  # "0", "0.00": a bound may be zero, an amount to move may not
        try:
            return parse_amount(value, args.currency or "EUR", minor=out.minor)
        except AmountError as error:
            raise UsageError(f"--min-balance/--max-balance: {error}") from None

    offset = args.offset if args.offset is not None else (args.page - 1) * args.limit
    query = CardQuery(
        status=args.status,
        currency=args.currency,
        min_balance=bound(args.min_balance),
        max_balance=bound(args.max_balance),
        issued_from=args.issued_from,
        issued_to=args.issued_to,
        limit=args.limit,
        offset=offset,
    )

    async def work(service: LedgerService) -> tuple[Any, str]:
        body = _checked(await service.list_cards(query))
        cards, total = body["cards"], body["total"]
        if not cards:
            return body, f"no cards match (total {total})"
        shown = f"cards {offset + 1}-{offset + len(cards)} of {total}"
        if offset + len(cards) < total:
            shown += f"; next page: --page {offset // args.limit + 2}"
        return body, cards_table(cards, out) + "\n\n" + shown

    return _service_command(args, out, work)


def _amount(text: str, currency: str, out: Output, *, signed: bool = False) -> int:
    try:
        return parse_amount(text, currency, minor=out.minor, signed=signed)
    except AmountError as error:
        raise UsageError(f"--amount: {error}") from None


# -- argument types ------------------------------------------------------------------------------


def _currency(value: str) -> str:
    try:
        return check_currency(value)
    except AmountError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_ISSUE_COUNT:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_ISSUE_COUNT}")
    return int(value)


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a whole number of at least 1")
    return int(value)


def _page_size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 1000")
    return int(value)


def _offset(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError("must be a whole number of at least 0")
    return int(value)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError("must be a date YYYY-MM-DD") from error


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return int(value)


# -- the parser ----------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, Output], int]
CARD_HELP = "the card: its code, its id (crd_...) or the last four characters of its code"


def build_parser() -> Parser:
    # SUPPRESS: a flag given before the subcommand is not overwritten by the subcommand's default.
    common = Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print exactly one JSON document on stdout"
    )
    common.add_argument(
        "--minor",
        action="store_true",
        default=argparse.SUPPRESS,
        help="type and show amounts as whole minor units (5000 EUR = 50.00 EUR), for scripts",
    )
    parser = Parser(
        prog="giftcard-connector ledger",
        description=__doc__,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def add(group: Any, name: str, handler: Handler, helptext: str, **extra: Any) -> Parser:
        sub: Parser = group.add_parser(name, help=helptext, description=helptext, parents=[common], **extra)
        sub.set_defaults(handler=handler)
        return sub

    serve = add(
        commands,
        "serve",
        cmd_serve,
        "run the ledger HTTP API",
        epilog="environment variables it reads:\n" + ledger_variables_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="address to listen on (overrides LEDGER_HOST)")
    serve.add_argument("--port", type=_port, help="port to listen on (overrides LEDGER_PORT)")
    serve.add_argument("--workers", type=_positive_int, help="worker processes (overrides LEDGER_WORKERS)")
    add(commands, "migrate", cmd_migrate, "bring the database schema up to date")

    keys = commands.add_parser("keys", help="API keys of the Processor and of admin tools", parents=[common])
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="KEYS_COMMAND", parser_class=Parser)
    create = add(key_commands, "create", cmd_keys_create, "create an API key (printed once)")
    create.add_argument("--role", choices=[role.value for role in Role], required=True, help="what the key may do")
    create.add_argument("--label", help="a note to recognise the key by (e.g. the shop's name)")
    add(key_commands, "list", cmd_keys_list, "list API keys (never the keys themselves)")
    revoke = add(key_commands, "revoke", cmd_keys_revoke, "revoke an API key: refused from the next request on")
    revoke.add_argument("key", help="the key's id (key_...) or its prefix as `keys list` shows it")

    issue = add(commands, "issue", cmd_issue, "issue new cards")
    issue.add_argument(
        "--amount", required=True, metavar="AMOUNT", help="initial balance, e.g. 50.00 (EUR) or 5000 (JPY)"
    )
    issue.add_argument("--currency", type=_currency, required=True, metavar="CODE", help="ISO 4217 code, e.g. EUR")
    issue.add_argument("--pin", help="a PIN of 4 to 12 digits the card will ask for")
    issue.add_argument("--expires", type=_date, metavar="DATE", help="last day the card can be used (YYYY-MM-DD, UTC)")
    issue.add_argument(
        "--count", type=_count, metavar="N", help=f"issue N cards, 1 to {MAX_ISSUE_COUNT} (JSON: a list)"
    )

    cards = commands.add_parser("cards", help="find cards", parents=[common])
    card_commands = cards.add_subparsers(
        dest="cards_command", required=True, metavar="CARDS_COMMAND", parser_class=Parser
    )
    listing = add(card_commands, "list", cmd_cards_list, "list cards, newest first, filtered and paged")
    listing.add_argument(
        "--status", choices=[CardStatus.ACTIVE, CardStatus.DISABLED], help="only cards with this status"
    )
    listing.add_argument("--currency", type=_currency, metavar="CODE", help="only cards in this currency (ISO 4217)")
    listing.add_argument(
        "--min-balance", metavar="AMOUNT", help="only cards holding at least this much (needs --currency)"
    )
    listing.add_argument(
        "--max-balance", metavar="AMOUNT", help="only cards holding at most this much (needs --currency)"
    )
    listing.add_argument(
        "--issued-from", type=_date, metavar="DATE", help="only cards issued on or after this day (YYYY-MM-DD, UTC)"
    )
    listing.add_argument(
        "--issued-to", type=_date, metavar="DATE", help="only cards issued on or before this day (YYYY-MM-DD, UTC)"
    )
    listing.add_argument(
        "--limit", type=_page_size, metavar="N", default=PAGE_SIZE, help=f"cards per page (default {PAGE_SIZE})"
    )
    paging = listing.add_mutually_exclusive_group()
    paging.add_argument("--page", type=_positive_int, metavar="N", default=1, help="page number, from 1 (default 1)")
    paging.add_argument("--offset", type=_offset, metavar="N", help="skip this many cards instead of --page")

    for name, handler, helptext in (
        ("show", cmd_show, "show a card"),
        ("history", cmd_history, "list a card's entries with notes, oldest first"),
        ("deactivate", cmd_set_status(CardStatus.DISABLED), "disable a card"),
        ("activate", cmd_set_status(CardStatus.ACTIVE), "enable a card again (also lifts a PIN lock)"),
        ("unlock", cmd_unlock, "lift a PIN lockout and forget the wrong PINs (after checking who asks)"),
    ):
        add(commands, name, handler, helptext).add_argument("card", help=CARD_HELP)
    reload = add(commands, "reload", cmd_reload, "add money to a card")
    reload.add_argument("card", help=CARD_HELP)
    reload.add_argument(
        "--amount", required=True, metavar="AMOUNT", help="how much to add, in the card's currency, e.g. 25.00"
    )
    adjust = add(commands, "adjust", cmd_adjust, "correct a balance (a negative amount takes money off)")
    adjust.add_argument("card", help=CARD_HELP)
    adjust.add_argument(
        "--amount", required=True, metavar="AMOUNT", help="signed correction in the card's currency, e.g. -5.00"
    )
    adjust.add_argument("--note", metavar="TEXT", help="why (kept with the entry; history shows it)")
    return parser


def main(argv: list[str]) -> int:
    # Known before parsing, so even the parser's own errors come out as JSON when asked for.
    out = Output(json="--json" in argv, minor="--minor" in argv)
    try:
        args = build_parser().parse_args(argv)
        out = Output(json=getattr(args, "json", False), minor=getattr(args, "minor", False))
        return int(args.handler(args, out))
    except UsageError as error:
        out.error("usage", str(error))
        return EXIT_USAGE
    except LedgerConfigError as error:
        problems = str(error).splitlines()
        if out.json:
            out.error("configuration", f"{len(problems)} setting(s) missing or malformed", {"problems": problems})
        else:
            sys.stderr.write(str(error) + "\n")  # one line per variable, each naming it
        return EXIT_USAGE
    except Refused as error:
        matches = (error.details or {}).get("matches")
        listing = cards_table(matches, out) if matches and not out.json else ""
        out.error(error.code, error.message, error.details, text=listing)
        return EXIT_REFUSED
    except (DBAPIError, OSError) as error:
        out.error("unavailable", f"the ledger database is unavailable ({type(error).__name__})")
        return EXIT_UNAVAILABLE
    except Exception as error:  # a bug: still one JSON document under --json, and a non-zero exit
        if not out.json:
            raise
        out.error("internal_error", f"{type(error).__name__}: {error}")
        return EXIT_REFUSED
