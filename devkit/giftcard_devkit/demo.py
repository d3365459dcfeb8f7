"""`make demo` (`python -m giftcard_devkit.demo`): the whole local stack as a sandbox a shop's developer joins.

Settings: `DEMO_PORT` (the shop, default 3000; `--port` wins), `DEMO_ALLOWED_ORIGINS` (more origins the
Processor accepts, e.g. a developer's own page), `DEMO_DATA_DIR` (default `.demo/`: the ledger and its
demo cards, the same codes on every start; `--fresh` starts it anew).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from giftcard_devkit.demo_sandbox import (
    default_data_dir,
    parse_origins,
    remove_running,
    shell_env,
    write_running,
)

if TYPE_CHECKING:
    from giftcard_devkit.demo_stack import DemoStack


class _Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGINT/SIGTERM so the stack's context manager cleans up."""


def sandbox_text(stack: DemoStack) -> str:
    """What a developer needs to join the running demo: addresses, ledger CLI env, session command."""
    from giftcard_devkit.demo_stack import minor_amount

    ledger_env = {k: v for k, v in stack.ledger_env.items() if k != "LEDGER_LOG_LEVEL"}
    fifty, hundred = " ".join(minor_amount(5000)), " ".join(minor_amount(10000))
    origins = ", ".join(stack.allowed_origins)
    return (
        f"Processor: {stack.processor_url}   (allowed origins: {origins})\n"
        f"Emulator: {stack.emulator.base_url}   (commercetools API, auth, sessions)\n"
        f"Ledger: {stack.ledger_url}\n\n"
        "Ledger CLI on this demo's cards (top up, issue, show) while it runs, in another terminal:\n"
        f"{shell_env(ledger_env)}\n"
        f".venv/bin/giftcard-connector ledger reload <card number> {fifty}\n"
        f".venv/bin/giftcard-connector ledger issue {hundred} --currency EUR --pin 4321\n"
        ".venv/bin/giftcard-connector ledger show <card number>\n\n"
        "A cart and session for your own page: make session   (python -m giftcard_devkit.session)\n"
    )


def run_demo(args: argparse.Namespace) -> int:
    from giftcard_devkit.demo_stack import DemoStack, DemoStackError, card_table

    def out(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    stopping = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        if stopping.is_set():
            return  # a second Ctrl-C must not interrupt the clean-up
        stopping.set()
        sys.stdout.write("\nstopping (the stack shuts down)… ")
        sys.stdout.flush()
        raise _Stop(signal.Signals(signum).name)

    data_dir: Path = args.data_dir
    if args.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stack = DemoStack(shop_port=int(args.port), progress=out, data_dir=data_dir, extra_origins=args.origins)
        with stack:
            kept = f" (kept in {data_dir}; back at their starting balances)" if stack.resumed else ""
            out(f"\nDemo gift cards (EUR cart of 150.00){kept}:\n{card_table(stack.cards)}\n\n")
            out(sandbox_text(stack))
            write_running(
                data_dir,
                {
                    "processorUrl": stack.processor_url,
                    "emulatorUrl": stack.emulator.base_url,
                    "projectKey": stack.emulator.project_key,
                    "clientId": stack.emulator.client_id,
                    "clientSecret": stack.emulator.client_secret,
                    "ledgerUrl": stack.ledger_url,
                    "shopUrl": stack.shop_url,
                    "allowedOrigins": stack.allowed_origins,
                    "pid": os.getpid(),
                },
            )
            out(f"\nOpen the demo shop: {stack.shop_url}/   (e.g. {stack.shop_url}/?locale=de)\n")
            out("Press Ctrl-C to stop.\n")
            try:
                while not stopping.wait(2.0):
                    if not stack.alive():
                        out("a service stopped unexpectedly; shutting down\n")
                        return 1
            finally:
                remove_running(data_dir)
            return 0
    except _Stop:
        out("stopped\n")  # the with-block has stopped every process (and removed a temp dir)
        return 0
    except (DemoStackError, RuntimeError) as error:
        out(f"\ndemo failed: {error}\n")
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m giftcard_devkit.demo", description="the whole local stack and the demo shop"
    )
    port = os.environ.get("DEMO_PORT", "").strip() or "3000"
    parser.add_argument("--port", type=int, default=int(port), help="demo shop port (default $DEMO_PORT or 3000)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="ledger and demo cards (default $DEMO_DATA_DIR or .demo/)",
    )
    parser.add_argument("--fresh", action="store_true", help="forget the saved demo ledger and issue new cards")
    args = parser.parse_args(argv)
    args.origins = parse_origins(os.environ.get("DEMO_ALLOWED_ORIGINS", ""))
    return run_demo(args)


if __name__ == "__main__":
    sys.exit(main())
