"""The wheel as an operator installs it: built once, installed into an empty venv without and then with
the [ledger] extra, and its commands run from that venv (not from this checkout)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
LEDGER_STACK = ("sqlalchemy", "alembic", "asyncpg", "aiosqlite")
DEV_ONLY = ("httpx", "sniffio", "pytest", "playwright", "opentelemetry-sdk")


def run(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 30.0) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                body: bytes = answer.read()
                return body
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as answer:
        body: bytes = answer.read()
        return body


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel built from a clean copy of the sources (the shared checkout stays untouched)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    # No isolated build env: the dev venv's setuptools (pinned in [dev]) builds it, nothing is downloaded.
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", out, source
    )
    (built,) = out.glob("giftcard_connector-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty venv (not even pip: this venv's pip installs into it, which saves half a minute)."""
    path = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", "--without-pip", path)
    yield path / "bin"


def pip(bin_dir: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "pip", "--python", bin_dir / "python", *args)


def installed(bin_dir: Path) -> set[str]:
    listing = pip(bin_dir, "list", "--format=freeze").stdout
    return {line.split("==")[0].lower().replace("_", "-") for line in listing.splitlines() if "==" in line}


def processor_env(tmp: Path, port: int) -> dict[str, str]:
    # Nothing listens on port 9: the Processor must start and answer /health and /metrics without
    # calling commercetools.
    upstream = "http://127.0.0.1:9"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "CTP_PROJECT_KEY": "install-test",
        "CTP_CLIENT_ID": "id",
        "CTP_CLIENT_SECRET": "secret",
        "CTP_AUTH_URL": upstream,
        "CTP_API_URL": upstream,
        "CTP_SESSION_URL": upstream,
        "CTP_JWKS_URL": f"{upstream}/jwks.json",
        "CTP_JWT_ISSUER": upstream,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


def test_wheel_ships_the_services_and_no_development_tools(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("giftcard_connector-")}
    assert packages == {"giftcard_connector"}
    assert not [name for name in names if "devtools" in name or "devkit" in name]
    assert not [name for name in names if name.endswith(("ledger/bench.py", "ledger/loopback.py"))]
    assert "giftcard_connector/static/enabler/connector-enabler.es.js" in names
    assert "giftcard_connector/static/enabler/connector-enabler.umd.js" in names
    assert "giftcard_connector/static/enabler/connector-enabler.d.ts" in names  # the Enabler's types
    assert any(name.startswith("giftcard_connector/ledger/migrations/versions/") for name in names)


def test_processor_install_then_ledger_extra_in_an_empty_venv(wheel: Path, venv: Path, tmp_path: Path) -> None:
    pip(venv, "install", "--quiet", "--no-compile", wheel)
    packages = installed(venv)
    assert not packages & {*LEDGER_STACK, *DEV_ONLY}, packages
    assert {"fastapi", "uvicorn", "aiohttp", "prometheus-client"} <= packages

    # The Processor starts from the venv and answers its probes.
    port = free_port()
    env = processor_env(tmp_path, port)
    with subprocess.Popen([venv / "giftcard-connector", "serve"], env=env, stderr=subprocess.PIPE) as server:
        try:
            assert wait_for(f"http://127.0.0.1:{port}/health", server) == b'{"status":"ok"}'
            assert b"giftcard_http_requests_total" in fetch(f"http://127.0.0.1:{port}/metrics")
        finally:
            server.terminate()
            server.wait(timeout=15)

    # Without the extra, the ledger says in one line which extra to install.
    refused = run(venv / "giftcard-connector", "ledger", "migrate", env=env, check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "giftcard-connector ledger needs the [ledger] extra: pip install 'giftcard-connector[ledger]'"
    ]

    pip(venv, "install", "--quiet", "--no-compile", f"{wheel}[ledger]")
    assert set(LEDGER_STACK) <= installed(venv)
    ledger_port = free_port()
    ledger_env = {
        **env,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "LEDGER_SECRET_KEY": "install-test-secret-key",
        "LEDGER_PORT": str(ledger_port),
    }
    run(venv / "giftcard-connector", "ledger", "migrate", env=ledger_env)
    key = run(venv / "giftcard-connector", "ledger", "keys", "create", "--role", "processor", env=ledger_env)
    assert key.stdout.strip()
    with subprocess.Popen([venv / "giftcard-connector", "ledger", "serve"], env=ledger_env) as ledger:
        try:
            assert b'"status":"ok"' in wait_for(f"http://127.0.0.1:{ledger_port}/v1/health", ledger)
        finally:
            ledger.terminate()
            ledger.wait(timeout=15)
