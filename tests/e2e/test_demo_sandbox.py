"""The demo as a shop developer's sandbox, exactly as enabler/README.md says: `make demo` with
DEMO_PORT and DEMO_ALLOWED_ORIGINS, the printed ledger CLI environment (issue a card while it runs),
`make session`, the README's own page on another origin in Chromium, and the same card codes after a restart."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from giftcard_devkit.processes import devkit_env, free_port
from tests.e2e.conftest import CHROMIUM, NO_CHROMIUM, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the emulator needs it)"),
]

README = Path(__file__).resolve().parents[2] / "enabler" / "README.md"
CARD_LINE = re.compile(r"^([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})\s", re.MULTILINE)


class RunningDemo:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "giftcard_devkit.demo"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        lines: list[str] = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        self.output = "".join(lines)
        assert "Press Ctrl-C" in self.output, self.output

    @property
    def codes(self) -> list[str]:
        return CARD_LINE.findall(self.output)

    def ledger_env(self) -> dict[str, str]:
        """The `export NAME=value` lines the demo printed for the ledger CLI."""
        exports = dict(re.findall(r"^export (LEDGER_\w+)=(.+)$", self.output, re.MULTILINE))
        return {name: shlex.split(value)[0] for name, value in exports.items()}

    def printed_command(self, start: str, card: str = "") -> list[str]:
        line = next(line for line in self.output.splitlines() if line.startswith(start))
        return shlex.split(line.replace("<card number>", card))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def own_page_dir(tmp_path: Path) -> Path:
    return tmp_path / "mypage"


@pytest.fixture
def static_server(own_page_dir: Path) -> Iterator[int]:
    """`python3 -m http.server` of the README, in a thread: serves `mypage/` on localhost."""
    own_page_dir.mkdir()
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(own_page_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def readme_page() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- own-page:start -->", 1)[1].split("<!-- own-page:end -->", 1)[0]
    return block.split("```html\n", 1)[1].rsplit("```", 1)[0]


def cli(command: list[str], env: dict[str, str]) -> Any:
    """A printed `.venv/bin/giftcard-connector …` line, run with this interpreter, with --json."""
    assert command[0].endswith("giftcard-connector")
    done = subprocess.run(
        [sys.executable, "-m", "giftcard_connector.cli", *command[1:], "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_own_page_against_the_running_demo_as_the_readme_says(
    tmp_path: Path, browser: Any, static_server: int, own_page_dir: Path
) -> None:
    page_origin = f"http://localhost:{static_server}"
    shop_port = free_port()
    env = {
        **devkit_env(),
        "DEMO_PORT": str(shop_port),
        "DEMO_ALLOWED_ORIGINS": page_origin,
        "DEMO_DATA_DIR": str(tmp_path / "demo-data"),
    }
    demo = RunningDemo(env)
    try:
        assert f"Open the demo shop: http://127.0.0.1:{shop_port}/" in demo.output
        assert page_origin in demo.output  # the Processor accepts the developer's page
        assert re.search(r"^Emulator: http://127\.0\.0\.1:\d+", demo.output, re.MULTILINE)
        assert re.search(r"^Ledger: http://127\.0\.0\.1:\d+", demo.output, re.MULTILINE)
        first_codes = demo.codes
        assert len(first_codes) == 5

        # The printed environment and command issue a card on the running demo's ledger.
        ledger_env = demo.ledger_env()
        assert set(ledger_env) == {"LEDGER_DATABASE_URL", "LEDGER_SECRET_KEY"}
        card = cli(demo.printed_command(".venv/bin/giftcard-connector ledger issue"), ledger_env)
        code = card["code"] if isinstance(card, dict) else card[0]["code"]

        # make session
        done = subprocess.run(
            [sys.executable, "-m", "giftcard_devkit.session", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        session = json.loads(done.stdout)
        assert session["total"]["centAmount"] == 15000

        # The README's page, with the two printed values put in, on its own origin.
        html = (
            readme_page().replace("PROCESSOR_URL", session["processorUrl"]).replace("SESSION_ID", session["sessionId"])
        )
        (own_page_dir / "index.html").write_text(html, encoding="utf-8")
        with open_page(browser) as page:
            page.goto(f"{page_origin}/")
            page.wait_for_selector("[data-testid=giftcard-code]")
            page.fill("[data-testid=giftcard-code]", code)
            page.fill("[data-testid=giftcard-pin]", "4321")
            page.click("#check")
            page.locator("#out").filter(has_text='"Valid"').wait_for()
            assert json.loads(page.inner_text("#out"))["amount"] == {"centAmount": 10000, "currencyCode": "EUR"}
            page.click("#pay")
            page.locator("#out").filter(has_text="isSuccess").wait_for()
            result = json.loads(page.inner_text("#out"))
        assert result["isSuccess"] is True
        assert result["remainingBalance"] == {"centAmount": 9000, "currencyCode": "EUR"}
        shown = cli([".venv/bin/giftcard-connector", "ledger", "show", code], ledger_env)
        assert shown["balance"]["centAmount"] == 9000
        # The printed top-up command on a demo card (50.00 EUR, no PIN), while the demo runs.
        cli(demo.printed_command(".venv/bin/giftcard-connector ledger reload", card=first_codes[0]), ledger_env)
        topped = cli([".venv/bin/giftcard-connector", "ledger", "show", first_codes[0]], ledger_env)
        assert topped["balance"]["centAmount"] == 10000
    finally:
        demo.stop()
    assert demo.process.returncode == 0
    assert not (tmp_path / "demo-data" / "running.json").exists()

    # A second start: the same demo cards (the developer's notes and tests keep working).
    again = RunningDemo(env)
    try:
        assert again.codes == first_codes
        assert "back at their starting balances" in again.output
        reset = cli([".venv/bin/giftcard-connector", "ledger", "show", first_codes[0]], again.ledger_env())
        assert reset["balance"]["centAmount"] == 5000  # the walkthrough works again after a restart
    finally:
        again.stop()
