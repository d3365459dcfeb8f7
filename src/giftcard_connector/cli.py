"""Command line: giftcard-connector serve | ledger ...

The demo and the benchmark are development tools that live in devkit/ (make demo, make bench).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

# What `giftcard-connector ledger ...` imports beyond the Processor's own dependencies (the [ledger] extra).
LEDGER_MODULES = ("sqlalchemy", "alembic", "asyncpg", "aiosqlite")
LEDGER_EXTRA_HINT = "giftcard-connector ledger needs the [ledger] extra: pip install 'giftcard-connector[ledger]'"


def _serve(_: argparse.Namespace) -> int:
    from giftcard_connector.server import serve

    return serve()


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
    commands.add_parser("serve", help="run the Processor (configured by environment variables)").set_defaults(
        handler=_serve
    )
    commands.add_parser("ledger", help="the built-in gift card ledger (see: giftcard-connector ledger --help)")
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
