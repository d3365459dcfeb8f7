"""Starting our own services (Processor, ledger) as real processes on loopback, for tests, demo and bench."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

# devkit/ is not installed (it never ships): child processes that import giftcard_devkit need it on their path.
DEVKIT_PATH = str(Path(__file__).resolve().parent.parent)


def devkit_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's environment) with devkit/ on PYTHONPATH."""
    result = dict(os.environ if env is None else env)
    paths = [p for p in result.get("PYTHONPATH", "").split(os.pathsep) if p]
    result["PYTHONPATH"] = os.pathsep.join([DEVKIT_PATH, *(p for p in paths if p != DEVKIT_PATH)])
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminate_group(process: subprocess.Popen[Any], grace: float = 5) -> None:
    """SIGTERM the process's whole group (started with start_new_session), SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class ServiceProcess:
    """`giftcard-connector <args>` (or any `command`) in its own process group, ready once `health_path`
    answers 200."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        port: int,
        health_path: str = "/health",
        name: str = "service",
        startup_timeout: float = 30.0,
        command: Sequence[str] | None = None,
    ) -> None:
        self.command = list(command) if command is not None else [sys.executable, "-m", "giftcard_connector.cli", *args]
        self.env = devkit_env({**os.environ, **env})
        self.port = port
        self.health_path = health_path
        self.name = name
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> Self:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the process's lifetime
        self._process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + self.health_path, timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become healthy in {self.startup_timeout}s:\n{self.output()}")

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-5000:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            terminate_group(process, grace=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def processor(env: Mapping[str, str], port: int | None = None) -> ServiceProcess:
    port = port or free_port()
    return ServiceProcess(["serve"], {**env, "PORT": str(port), "HOST": "127.0.0.1"}, port, name="processor")
