"""`make session` (`python -m giftcard_devkit.session`): a cart and checkout session on the running demo.

What commercetools Checkout hands the Enabler on a real shop, made for a developer's own page: prints the
session id and the Processor URL (and, with `--json`, one JSON document). The demo must be running
(`make demo`); it is found through `running.json` in the demo's data directory (`DEMO_DATA_DIR`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

from giftcard_devkit.demo_sandbox import default_data_dir, read_running
from giftcard_devkit.demo_shop import create_cart_and_session
from giftcard_devkit.emulator import Emulator, EmulatorError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m giftcard_devkit.session", description=__doc__.split("\n")[0])
    parser.add_argument("--amount", type=int, help="cart total in minor units (default: the demo cart, 15000)")
    parser.add_argument("--currency", default="EUR", help="cart currency (default EUR)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the running demo's data dir")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.amount is not None and args.amount <= 0:
        parser.error("--amount must be a positive number of minor units")
    try:
        running = read_running(args.data_dir)
        emulator = Emulator.attach(
            running["emulatorUrl"],
            project_key=running["projectKey"],
            client_id=running["clientId"],
            client_secret=running["clientSecret"],
        )
        try:
            created = create_cart_and_session(emulator, args.amount, args.currency.upper())
        finally:
            emulator.stop()
    except (LookupError, EmulatorError, RuntimeError, OSError) as error:
        sys.stderr.write(f"session: {error}\n")
        return 1
    except httpx.HTTPError as error:  # the demo stopped without removing its running.json
        sys.stderr.write(f"session: the demo does not answer ({type(error).__name__}); is `make demo` running?\n")
        return 1
    result = {**created, "processorUrl": running["processorUrl"]}
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        total = created["total"]
        sys.stdout.write(
            f"session id:    {created['sessionId']}\n"
            f"processor URL: {running['processorUrl']}\n"
            f"cart:          {created['cartId']} ({total['centAmount']} {total['currencyCode']} in minor units)\n"
            f"allowed page origins: {', '.join(running.get('allowedOrigins', []))}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
