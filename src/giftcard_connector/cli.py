"""Command line: giftcard-connector serve | demo | bench | ledger ..."""

from __future__ import annotations

import argparse
import sys


def _serve(_: argparse.Namespace) -> int:
    from giftcard_connector.server import serve

    return serve()


def _demo(args: argparse.Namespace) -> int:
    from giftcard_connector.devtools.demo import run_demo

    return run_demo(args)


def _bench(args: argparse.Namespace) -> int:
    from giftcard_connector.devtools.bench import run_bench

    return run_bench(args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "ledger":
        from giftcard_connector.ledger.cli import main as ledger_main

        return ledger_main(argv[1:])

    parser = argparse.ArgumentParser(prog="giftcard-connector", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the Processor (configured by environment variables)").set_defaults(
        handler=_serve
    )
    demo = commands.add_parser("demo", help="run the whole local stack and the demo shop")
    demo.add_argument("--port", type=int, default=3000, help="demo shop port (default 3000)")
    demo.set_defaults(handler=_demo)
    bench = commands.add_parser("bench", help="measure throughput and latency on loopback")
    bench.add_argument("--requests", type=int, default=400, help="requests per scenario")
    bench.set_defaults(handler=_bench)
    commands.add_parser("ledger", help="the built-in gift card ledger (see: giftcard-connector ledger --help)")
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
