"""Command line: giftcard-connector serve | reconcile | ledger ...

The demo and the benchmark are development tools that live in devkit/ (make demo, make bench).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Any

# What `giftcard-connector ledger ...` imports beyond the Processor's own dependencies (the [ledger] extra).
LEDGER_MODULES = ("sqlalchemy", "alembic", "asyncpg", "aiosqlite", "iso4217")
LEDGER_EXTRA_HINT = "giftcard-connector ledger needs the [ledger] extra: pip install 'giftcard-connector[ledger]'"


def _serve(_: argparse.Namespace) -> int:
    from giftcard_connector.server import serve

    return serve()


def _reconcile(args: argparse.Namespace) -> int:
    import asyncio

    from giftcard_connector.reconcile import run_command
    from giftcard_connector.settings import ConfigurationError

    try:
        return asyncio.run(
            run_command(older_than=args.older_than, watch=args.watch, interval=args.interval, as_json=args.json)
        )
    except ConfigurationError as error:
        print(str(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _add_reconcile(commands: Any) -> None:
    from giftcard_connector.reconcile import DEFAULT_GRACE_SECONDS

    parser = commands.add_parser(
        "reconcile",
        help="settle Initial/Pending gift card transactions by asking the provider (one pass by default)",
    )
    parser.add_argument(
        "--older-than",
        type=float,
        default=None,
        metavar="SECONDS",
        help="only transactions written this long ago; an unknown key this old is recorded Failure "
        f"(grace period; default RECONCILE_GRACE, else {DEFAULT_GRACE_SECONDS:.0f}; keep it far above a provider "
        "call with its retry)",
    )
    parser.add_argument("--watch", action="store_true", help="keep going: one pass every --interval seconds")
    parser.add_argument("--interval", type=float, default=60.0, metavar="SECONDS", help="with --watch (default 60)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=_reconcile)


def _processor_variables() -> str:
    from giftcard_connector.settings import Settings, variables_help

    return variables_help(Settings)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "ledger":
        if not all(importlib.util.find_spec(name) for name in LEDGER_MODULES):
            print(LEDGER_EXTRA_HINT, file=sys.stderr)
            return 2
        from giftcard_connector.ledger.cli import main as ledger_main

        return ledger_main(argv[1:])

    parser = argparse.ArgumentParser(prog="giftcard-connector", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the Processor (configured by environment variables)",
        description="Run the Processor. All settings come from environment variables; every missing or malformed "
        "one is reported at start, one line each.",
        epilog="environment variables it reads:\n" + _processor_variables(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).set_defaults(handler=_serve)
    _add_reconcile(commands)
    commands.add_parser("ledger", help="the built-in gift card ledger (see: giftcard-connector ledger --help)")
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
