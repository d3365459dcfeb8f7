"""Launcher for the local commercetools emulator (``devkit/emulator.mjs``).

The emulator is a Node process built on ``@labdigital/commercetools-mock``. It serves the Core Commerce
API, OAuth (token and introspection), the Session API and a Merchant Center JWKS on one base URL, plus
test-only controls under ``/__test/``. Integration tests, the demo and the benchmark use this class::

    with Emulator() as emu:
        env = emu.processor_env()
        cart = emu.create_cart(1000, "EUR")
        session_id = emu.create_session(cart["id"])
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from giftcard_devkit.processes import terminate_group

READY_PREFIX = "EMULATOR_READY "
DEFAULT_PROJECT_KEY = "giftcard-emulator"
DEFAULT_CLIENT_ID = "test-client"
DEFAULT_CLIENT_SECRET = "test-secret"
DEFAULT_ISSUER = "https://mc-api.emulator.local"
MOCK_PACKAGE = Path("node_modules") / "@labdigital" / "commercetools-mock"


class EmulatorError(RuntimeError):
    """The emulator could not be started or answered something unexpected."""


class NodeNotFoundError(EmulatorError):
    """No ``node`` executable on PATH."""


class DevkitNotInstalledError(EmulatorError):
    """``devkit/node_modules`` is missing: run ``make setup``."""


def find_devkit_dir() -> Path:
    """The ``devkit`` folder: ``$GIFTCARD_DEVKIT_DIR``, else the first parent holding devkit/emulator.mjs."""
    env = os.environ.get("GIFTCARD_DEVKIT_DIR")
    if env:
        path = Path(env).expanduser().resolve()
        if not (path / "emulator.mjs").is_file():
            raise EmulatorError(f"GIFTCARD_DEVKIT_DIR={env} has no emulator.mjs")
        return path
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "devkit"
        if (candidate / "emulator.mjs").is_file():
            return candidate
    raise EmulatorError("cannot find devkit/emulator.mjs (set GIFTCARD_DEVKIT_DIR)")


class Emulator:
    """A running commercetools emulator; a sync context manager (``start()`` / ``stop()`` also work)."""

    def __init__(
        self,
        *,
        project_key: str = DEFAULT_PROJECT_KEY,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        issuer: str = DEFAULT_ISSUER,
        port: int = 0,
        devkit_dir: str | Path | None = None,
        node: str = "node",
        startup_timeout: float = 30.0,
        verbose: bool = False,
    ) -> None:
        self.project_key = project_key
        self.client_id = client_id
        self.client_secret = client_secret
        self.issuer = issuer
        self.jwks_kid = ""
        self._requested_port = port
        self._devkit_dir = Path(devkit_dir).resolve() if devkit_dir is not None else None
        self._node = node
        self._startup_timeout = startup_timeout
        self._verbose = verbose
        self._port: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._client: httpx.Client | None = None
        self._token: str | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self._threads: list[threading.Thread] = []

    @classmethod
    def attach(cls, base_url: str, *, project_key: str, client_id: str, client_secret: str) -> Self:
        """An emulator that another process started (a running demo); ``stop()`` leaves it running."""
        emulator = cls(project_key=project_key, client_id=client_id, client_secret=client_secret)
        port = httpx.URL(base_url).port
        if port is None:
            raise EmulatorError(f"no port in {base_url}")
        emulator._port = port
        emulator._client = httpx.Client(base_url=emulator.base_url, timeout=10.0)
        return emulator

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Start node, wait for the READY line; raise :class:`EmulatorError` on failure."""
        if self._proc is not None:
            return self
        node = shutil.which(self._node)
        if node is None:
            raise NodeNotFoundError(f"'{self._node}' is not installed or not on PATH (Node 20+ is needed)")
        devkit = self._devkit_dir or find_devkit_dir()
        if not (devkit / MOCK_PACKAGE).is_dir():
            raise DevkitNotInstalledError(f"{devkit / 'node_modules'} is missing: run make setup")
        args = [
            node,
            str(devkit / "emulator.mjs"),
            "--port",
            str(self._requested_port),
            "--project-key",
            self.project_key,
            "--client-id",
            self.client_id,
            "--client-secret",
            self.client_secret,
            "--issuer",
            self.issuer,
            "--exit-on-stdin-close",
        ]
        if self._verbose:
            args.append("--verbose")
        self._proc = subprocess.Popen(
            args,
            cwd=devkit,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        ready: dict[str, Any] = {}
        got_ready = threading.Event()
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._spawn(self._read_stdout, self._proc.stdout, ready, got_ready)
        self._spawn(self._read_stderr, self._proc.stderr)
        deadline = time.monotonic() + self._startup_timeout
        while not got_ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                reason = (
                    f"exited with code {self._proc.returncode}"
                    if self._proc.poll() is not None
                    else f"not ready after {self._startup_timeout:.0f}s"
                )
                time.sleep(0.1)  # let the stderr reader catch up
                tail = "\n".join(self._stderr_tail)
                self.stop()
                raise EmulatorError(f"commercetools emulator {reason}\n{tail}".rstrip())
        self._port = int(ready["port"])
        self.project_key = str(ready.get("projectKey", self.project_key))
        self.jwks_kid = str(ready.get("jwksKid", ""))
        self._client = httpx.Client(base_url=self.base_url, timeout=10.0)
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read_stdout(self, stream: IO[str], ready: dict[str, Any], got_ready: threading.Event) -> None:
        for line in stream:
            if not got_ready.is_set() and line.startswith(READY_PREFIX):
                ready.update(json.loads(line[len(READY_PREFIX) :]))
                got_ready.set()

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr_tail.append(line.rstrip("\n"))

    def stop(self) -> None:
        """Stop the node process (its whole process group); safe to call twice."""
        if self._client is not None:
            self._client.close()
            self._client = None
        proc, self._proc = self._proc, None
        if proc is None:
            return
        terminate_group(proc)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for thread in self._threads:
            thread.join(timeout=1)
        self._threads.clear()
        self._token = None

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._port is None:
            raise EmulatorError("emulator not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    def processor_env(self) -> dict[str, str]:
        """The CTP_* settings (contract section 2) that point a Processor at this emulator."""
        return {
            "CTP_PROJECT_KEY": self.project_key,
            "CTP_CLIENT_ID": self.client_id,
            "CTP_CLIENT_SECRET": self.client_secret,
            "CTP_AUTH_URL": self.base_url,
            "CTP_API_URL": self.base_url,
            "CTP_SESSION_URL": self.base_url,
            "CTP_JWKS_URL": self.jwks_url,
            "CTP_JWT_ISSUER": self.issuer,
        }

    # ------------------------------------------------------------------ HTTP helpers
    @property
    def client(self) -> httpx.Client:
        """A plain httpx client on the base URL (no auth header)."""
        if self._client is None:
            raise EmulatorError("emulator not started")
        return self._client

    def _json(self, response: httpx.Response, *expected: int) -> Any:
        if response.status_code not in (expected or (200,)):
            raise EmulatorError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    def access_token(self, *, refresh: bool = False) -> str:
        """A client-credentials token (scope manage_project:{key}), cached."""
        if self._token is None or refresh:
            response = self.client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_secret),
            )
            self._token = str(self._json(response)["access_token"])
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A Bearer-authenticated call to ``/{projectKey}{path}``."""
        headers = {"Authorization": f"Bearer {self.access_token()}", **kwargs.pop("headers", {})}
        return self.client.request(method, f"/{self.project_key}{path}", headers=headers, **kwargs)

    # ------------------------------------------------------------------ test-only controls
    def mint_jwt(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        header: Mapping[str, Any] | None = None,
        foreign_key: bool = False,
        **extra_claims: Any,
    ) -> str:
        """A Merchant Center style JWT signed RS256 with the JWKS key.

        Defaults: iss, ``"<issuer>/claims/project_key"``, sub, iat, exp (now+3600). Given claims
        override the defaults; a claim set to None is removed. ``header`` overrides header fields
        (``alg`` "none" or "HS256" produce the matching insecure tokens, ``kid`` a foreign kid);
        ``foreign_key=True`` signs with a key that is not in the JWKS.
        """
        body: dict[str, Any] = {"claims": {**(claims or {}), **extra_claims}}
        if header is not None:
            body["header"] = dict(header)
        if foreign_key:
            body["foreignKey"] = True
        return str(self._json(self.client.post("/__test/jwt", json=body))["token"])

    def mint_token(
        self,
        scope: str | None = None,
        active: bool = True,
        *,
        expires_in: int | None = None,
        client_id: str | None = None,
    ) -> str:
        """A bearer token known to introspection (default scope ``manage_project:{key}``)."""
        body: dict[str, Any] = {"active": active}
        if scope is not None:
            body["scope"] = scope
        if expires_in is not None:
            body["expiresIn"] = expires_in
        if client_id is not None:
            body["clientId"] = client_id
        return str(self._json(self.client.post("/__test/token", json=body))["token"])

    def stats(self) -> dict[str, int]:
        """Calls per ``"METHOD kind"`` (e.g. ``"GET carts"``, ``"POST oauth/token"``) since the last reset."""
        data = self._json(self.client.get("/__test/stats"))
        return {str(k): int(v) for k, v in data.items()}

    def reset_stats(self) -> None:
        self._json(self.client.post("/__test/stats/reset"))

    def set_faults(self, **faults: Any) -> None:
        """Replace the injected faults, e.g. ``set_faults(sessions=503, introspect=500, delayMs=50)``.

        Keys are route kinds (``token``, ``introspect``, ``jwks``, ``sessions``, ``carts``, ``payments``,
        ... or ``all``) with an HTTP status; ``delayMs`` adds latency to every route and ``delays`` is a
        per-kind mapping of milliseconds. No arguments clears all faults.
        """
        self._json(self.client.post("/__test/faults", json=faults))

    def clear_faults(self) -> None:
        self.set_faults()

    # ------------------------------------------------------------------ commercetools data
    def create_cart(
        self,
        cent_amount: int,
        currency: str = "EUR",
        customer_id: str | None = None,
        *,
        anonymous_id: str | None = None,
        country: str | None = None,
    ) -> dict[str, Any]:
        """An active cart whose ``totalPrice.centAmount`` is ``cent_amount`` (one custom line item).

        Without a customer id the cart gets an anonymous id (a fresh one unless given).
        """
        draft: dict[str, Any] = {
            "currency": currency,
            "customLineItems": [
                {
                    "name": {"en": "Emulator item"},
                    "slug": "emulator-item",
                    "quantity": 1,
                    "money": {"currencyCode": currency, "centAmount": int(cent_amount)},
                }
            ],
        }
        if customer_id is not None:
            draft["customerId"] = customer_id
        else:
            draft["anonymousId"] = anonymous_id or str(uuid.uuid4())
        if country is not None:
            draft["country"] = country
        cart: dict[str, Any] = self._json(self.api("POST", "/carts", json=draft), 200, 201)
        return cart

    def get_cart(self, cart_id: str, expand: bool = True) -> dict[str, Any]:
        """The cart; with ``expand`` each payment is under ``paymentInfo.payments[i].obj``."""
        params = {"expand": "paymentInfo.payments[*]"} if expand else None
        cart: dict[str, Any] = self._json(self.api("GET", f"/carts/{cart_id}", params=params))
        return cart

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        payment: dict[str, Any] = self._json(self.api("GET", f"/payments/{payment_id}"))
        return payment

    def create_session(self, cart_id: str, metadata: Mapping[str, Any] | None = None) -> str:
        """An ACTIVE checkout session for the cart; returns the session id."""
        body = {"cart": {"cartRef": {"id": cart_id}}, "metadata": dict(metadata or {})}
        session = self._json(self.api("POST", "/sessions", json=body), 201)
        return str(session["id"])

    def get_session(self, session_id: str) -> dict[str, Any]:
        session: dict[str, Any] = self._json(self.api("GET", f"/sessions/{session_id}"))
        return session

    def set_session_state(self, session_id: str, state: str) -> None:
        self._json(self.client.post(f"/__test/sessions/{session_id}/state", json={"state": state}))

    def deactivate_session(self, session_id: str) -> None:
        self.set_session_state(session_id, "INACTIVE")
