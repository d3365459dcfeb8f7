"""Runs several `giftcard-connector ledger ... --json` commands in one Python process.

Reads a JSON list of argument lists on stdin, runs each through the ledger CLI's own `main` (the same
code path as the command line), and prints a JSON list of their answers. The demo issues its cards
this way: one interpreter start instead of one per card, which is most of a CLI call's time.

    echo '[["issue","--amount","500","--currency","EUR","--json"]]' | python -m giftcard_devkit.demo_ledger
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any

from giftcard_connector.ledger.cli import main as ledger_main


def run(commands: list[list[str]]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for argv in commands:
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            status = ledger_main(argv)
        text = captured.getvalue()
        answers.append({"status": status, "answer": json.loads(text) if text.strip() else None, "text": text})
    return answers


def main() -> int:
    commands = json.load(sys.stdin)
    sys.stdout.write(json.dumps(run(commands)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
