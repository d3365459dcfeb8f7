"""The whole local stack behind `giftcard-connector demo`, importable so browser tests start the same one.

Emulator (commercetools), ledger on SQLite in a temp dir, Processor with the ledger provider, and the demo
shop (Starlette in a thread). Everything listens on 127.0.0.1; every secret is random for the run.

    with DemoStack(shop_port=3000, progress=print) as stack:
        print(stack.shop_url, stack.cards)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn

from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import ServiceProcess, devkit_env, free_port, processor

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoCard:
    name: str
    code: str
    pin: str | None
    cent_amount: int
    currency: str
    note: str = ""


@dataclass(frozen=True)
class CardSpec:
    name: str
    cent_amount: int
    currency: str = "EUR"
    pin: str | None = None
    expired: bool = False
    note: str = ""


DEMO_CARDS = (
    CardSpec("eur50", 5000, note="no PIN"),
    CardSpec("eur200-pin", 20000, pin="1234", note="PIN 1234"),
    CardSpec("eur10", 1000, note="no PIN"),
    CardSpec("expired", 2500, expired=True, note="expired: Expired"),
    CardSpec("usd", 5000, currency="USD", note="USD: CurrencyNotMatch on a EUR cart"),
)


class DemoStackError(RuntimeError):
    pass


class _ShopServer:
    """uvicorn in a background thread: it then installs no signal handlers, so the caller owns Ctrl-C."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="demo-shop", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise DemoStackError("the demo shop did not start (is the port in use?)")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class DemoStack:
    def __init__(
        self,
        shop_port: int = 0,
        progress: Progress | None = None,
        extra_cards: tuple[CardSpec, ...] = (),
        *,
        data_dir: Path | None = None,
        extra_origins: tuple[str, ...] = (),
    ) -> None:
        """`extra_cards` are issued with the demo's own (tests get theirs without extra CLI runs).

        `data_dir` keeps the ledger database, its secret, the Processor's key and the demo cards across
        starts (the same codes every time); without it everything lives in a temp dir for one run.
        `extra_origins` are allowed to call the Processor besides the demo shop (a developer's page).
        """
        self._extra_cards = extra_cards
        self.data_dir = data_dir
        self.extra_origins = extra_origins
        self.shop_port = shop_port or free_port()
        self._progress = progress or (lambda _: None)
        self._stack = contextlib.ExitStack()
        self._tmp: Path | None = None
        self._emulator: Emulator | None = None
        self._processor: ServiceProcess | None = None
        self._ledger: ServiceProcess | None = None
        self.ledger_env: dict[str, str] = {}
        self.ledger_api_key = ""
        self.cards: dict[str, DemoCard] = {}
        self.resumed = False

    # -- addresses ------------------------------------------------------------------------------

    @property
    def shop_url(self) -> str:
        return f"http://127.0.0.1:{self.shop_port}"

    @property
    def shop_origins(self) -> list[str]:
        return [f"http://127.0.0.1:{self.shop_port}", f"http://localhost:{self.shop_port}"]

    @property
    def allowed_origins(self) -> list[str]:
        """The Processor's CORS allow-list: the demo shop and the extra origins."""
        return list(dict.fromkeys([*self.shop_origins, *self.extra_origins]))

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise DemoStackError("stack not started")
        return self._emulator

    @property
    def processor_url(self) -> str:
        if self._processor is None:
            raise DemoStackError("stack not started")
        return self._processor.base_url

    @property
    def ledger_url(self) -> str:
        if self._ledger is None:
            raise DemoStackError("stack not started")
        return self._ledger.base_url

    def alive(self) -> bool:
        """False once a service stops answering (the demo then stops instead of half-working)."""
        if not self.emulator.running:
            return False
        for url in (f"{self.ledger_url}/v1/health", f"{self.processor_url}/health"):
            try:
                if httpx.get(url, timeout=2.0).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()  # KeyboardInterrupt during start-up too: leave nothing behind
            raise
        return self

    def stop(self) -> None:
        self._stack.close()

    def _start(self) -> None:
        _ensure_port_free(self.shop_port)  # fail before starting anything, not after 10 seconds
        if self.data_dir is None:
            data = Path(tempfile.mkdtemp(prefix="giftcard-demo-"))
            self._tmp = data
            self._stack.callback(shutil.rmtree, data, True)
        else:
            data = self.data_dir.resolve()
            data.mkdir(parents=True, exist_ok=True)
        state = _read_state(data)
        self.ledger_env = {
            "LEDGER_DATABASE_URL": f"sqlite:///{data / 'ledger.sqlite3'}",
            "LEDGER_SECRET_KEY": state["secretKey"] if state else secrets.token_urlsafe(32),
            "LEDGER_LOG_LEVEL": "WARNING",
        }
        with self._step("starting commercetools emulator"):
            self._emulator = self._stack.enter_context(Emulator())
        if state is None:
            self._create_ledger(data)
        else:
            self._resume_ledger(state)
        with self._step("starting ledger"):
            port = free_port()
            ledger = ServiceProcess(
                ["ledger", "serve", "--port", str(port)], self.ledger_env, port, "/v1/health", name="ledger"
            )
            self._ledger = self._stack.enter_context(ledger)
        with self._step("starting Processor (provider: ledger)"):
            env = {
                **self.emulator.processor_env(),
                "GIFTCARD_PROVIDER": "ledger",
                "LEDGER_URL": self.ledger_url,
                "LEDGER_API_KEY": self.ledger_api_key,
                "CORS_ALLOWED_ORIGINS": ",".join(self.allowed_origins),
                "LOG_LEVEL": "WARNING",
            }
            self._processor = self._stack.enter_context(processor(env))
        with self._step("starting demo shop"):
            from giftcard_devkit.demo_shop import create_shop_app

            shop = _ShopServer(create_shop_app(self.emulator, self.processor_url), self.shop_port)
            shop.start()
            self._stack.callback(shop.stop)

    def _create_ledger(self, data: Path) -> None:
        specs = (*DEMO_CARDS, *self._extra_cards)
        with self._step(f"creating ledger database (SQLite), processor key and {len(specs)} cards"):
            key, *cards = self.ledger_batch(
                [["migrate"], ["keys", "create", "--role", "processor", "--label", "demo"]]
                + [_issue_args(spec) for spec in specs]
            )[1:]
            self.ledger_api_key = str(key["key"])
            for spec, card in zip(specs, cards, strict=True):
                if spec.expired:
                    self._backdate(str(card["id"]))
                self.cards[spec.name] = _demo_card(spec, card)
        if self.data_dir is not None:
            demo_cards = [asdict(self.cards[spec.name]) for spec in DEMO_CARDS]
            _write_state(
                data,
                {
                    "secretKey": self.ledger_env["LEDGER_SECRET_KEY"],
                    "apiKey": self.ledger_api_key,
                    "cards": demo_cards,
                },
            )

    def _resume_ledger(self, state: dict[str, Any]) -> None:
        """The demo cards of an earlier start, back at their starting balances; extra cards issued anew."""
        self.resumed = True
        self.ledger_api_key = str(state["apiKey"])
        cards = [DemoCard(**card) for card in state["cards"]]
        with self._step(f"reusing the demo ledger ({len(cards)} cards back at their starting balances)"):
            shown = self.ledger_batch([["migrate"], *(["show", card.code] for card in cards)])[1:]
            commands: list[list[str]] = []
            for card, now in zip(cards, shown, strict=True):
                difference = card.cent_amount - int(now["balance"]["centAmount"])
                if difference:
                    commands.append(["adjust", card.code, *minor_amount(difference), "--note", "demo start"])
            commands += [_issue_args(spec) for spec in self._extra_cards]
            answers = self.ledger_batch(commands) if commands else []
            self.cards = {card.name: card for card in cards}
            for spec, card in zip(self._extra_cards, answers[len(answers) - len(self._extra_cards) :], strict=True):
                self.cards[spec.name] = _demo_card(spec, card)

    @contextlib.contextmanager
    def _step(self, what: str) -> Iterator[None]:
        self._progress(f"{what}… ")
        started = time.monotonic()
        try:
            yield
        except KeyboardInterrupt:
            self._progress("interrupted\n")
            raise
        except BaseException:
            self._progress("failed\n")
            raise
        self._progress(f"ok ({time.monotonic() - started:.1f}s)\n")

    # -- ledger ---------------------------------------------------------------------------------

    def ledger_cli(self, *args: str) -> Any:
        """`giftcard-connector ledger ARGS --json` on this stack's database; the parsed JSON answer."""
        done = subprocess.run(
            [sys.executable, "-m", "giftcard_connector.cli", "ledger", *args, "--json"],
            env={**os.environ, **self.ledger_env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise DemoStackError(f"ledger {args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return json.loads(done.stdout)

    def ledger_batch(self, commands: list[list[str]]) -> list[Any]:
        """Several ledger commands in one process (see demo_ledger); each one's parsed JSON answer."""
        done = subprocess.run(
            [sys.executable, "-m", "giftcard_devkit.demo_ledger"],
            input=json.dumps([[*command, "--json"] for command in commands]),
            env=devkit_env({**os.environ, **self.ledger_env}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise DemoStackError(f"ledger commands failed ({done.returncode}): {done.stderr[-2000:]}")
        results = json.loads(done.stdout)
        for command, result in zip(commands, results, strict=True):
            if result["status"] != 0:
                raise DemoStackError(f"ledger {command[0]} failed ({result['status']}): {result['text']}")
        return [result["answer"] for result in results]

    def issue_card(self, cent_amount: int, currency: str = "EUR", pin: str | None = None) -> DemoCard:
        """A new card (tests use fresh cards so they do not depend on each other's redemptions)."""
        spec = CardSpec("extra", cent_amount, currency, pin)
        return _demo_card(spec, self.ledger_cli(*_issue_args(spec)))

    def _backdate(self, card_id: str) -> None:
        # The ledger rightly refuses to issue a card that expired in the past, so the demo's expired
        # card is issued valid until today and then moved back a year in its own throw-away database.
        database = self.ledger_env["LEDGER_DATABASE_URL"].removeprefix("sqlite:///")
        a_year_ago = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=365)).isoformat()
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as connection, connection:
            connection.execute("UPDATE cards SET expires_on = ? WHERE id = ?", (a_year_ago, card_id))


@functools.cache
def _cli_has_minor_flag() -> bool:
    # The ledger CLI is moving from minor units to decimals with `--minor` for scripts; both work here.
    from giftcard_connector.ledger.cli import build_parser

    return "--minor" in build_parser().format_help()


def minor_amount(cent_amount: int) -> list[str]:
    """`--amount N` in minor units for the ledger CLI (which reads decimals unless `--minor` is given)."""
    return ["--minor", "--amount", str(cent_amount)] if _cli_has_minor_flag() else ["--amount", str(cent_amount)]


def _issue_args(spec: CardSpec) -> list[str]:
    args = ["issue", *minor_amount(spec.cent_amount), "--currency", spec.currency]
    if spec.pin is not None:
        args += ["--pin", spec.pin]
    if spec.expired:
        args += ["--expires", dt.datetime.now(dt.UTC).date().isoformat()]
    return args


def _demo_card(spec: CardSpec, issued: dict[str, Any]) -> DemoCard:
    return DemoCard(spec.name, str(issued["code"]), spec.pin, spec.cent_amount, spec.currency, spec.note)


STATE_FILE = "demo-state.json"


def _read_state(data: Path) -> dict[str, Any] | None:
    """The saved demo (secret, Processor key, cards), or None for a first start."""
    path = data / STATE_FILE
    if not path.is_file() or not (data / "ledger.sqlite3").is_file():
        return None
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(state.get("secretKey"), str) and isinstance(state.get("cards"), list)):
            raise ValueError("fields missing")
    except ValueError as error:
        raise DemoStackError(f"{path} is damaged ({error}); delete {data} to start the demo afresh") from error
    return state


def _write_state(data: Path, state: dict[str, Any]) -> None:
    path = data / STATE_FILE
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)  # a local sandbox's secrets, still not for other users of the machine


def _ensure_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            raise DemoStackError(f"port {port} is in use (choose another with --port)") from error


def card_table(cards: dict[str, DemoCard]) -> str:
    """The demo cards as a plain-text table for the terminal."""
    rows = [("card number", "PIN", "balance", "note")]
    for card in cards.values():
        amount = f"{card.cent_amount / 100:.2f} {card.currency}"
        rows.append((card.code, card.pin or "-", amount, card.note))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
