"""The container host for `make container-check`: commands, the Docker daemon, and docker compose.

The daemon is left as it was found: when `docker info` answers, the running daemon is used and never
stopped; otherwise one is started here (no bridge, no iptables rules: every container of the check uses
host networking) and stopped again at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

DOCKERD_LOG = Path("/var/tmp/giftcard-check-dockerd.log")
DOCKERD_PIDFILE = Path("/var/run/giftcard-check-dockerd.pid")
# No docker0 bridge and no iptables/NAT rules: nothing can reach a bridge address, and a shared host's
# firewall stays untouched. Builds and containers use the host's network instead.
DOCKERD_FLAGS = ("--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false")


class HostError(RuntimeError):
    """A host command failed; the message carries the command and the tail of its output."""


def say(message: str) -> None:
    print(f"[container-check] {message}", flush=True)


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input_bytes: bytes | None = None,
    capture: bool = True,
    timeout: float = 1800,
) -> str:
    """Run a command; return its stdout (text). Raise HostError with the output's tail on failure."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        list(args),
        env=full_env,
        cwd=cwd,
        input=input_bytes,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        timeout=timeout,
        check=False,
    )
    output = (result.stdout or b"").decode(errors="replace")
    if result.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise HostError(f"`{' '.join(args)}` exited with {result.returncode}\n{tail}".rstrip())
    return output


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, check=False)
    return probe.returncode == 0


class Dockerd:
    """The Docker daemon, found running or started here (and then stopped by `restore`)."""

    def __init__(self) -> None:
        self.started: subprocess.Popen[bytes] | None = None

    def ensure(self, timeout: float = 60) -> str:
        """Make sure a daemon answers; return how it was found ("running" or "started")."""
        if docker_answers():
            return "running"
        if shutil.which("dockerd") is None:
            raise HostError("dockerd is not installed: apt-get install -y docker.io")
        log = DOCKERD_LOG.open("ab")
        self.started = subprocess.Popen(
            ["dockerd", *DOCKERD_FLAGS, "--pidfile", str(DOCKERD_PIDFILE)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.started.poll() is not None:
                raise HostError(f"dockerd exited with {self.started.returncode}:\n{self.log_tail()}")
            if docker_answers():
                return "started"
            time.sleep(0.5)
        self.restore()
        raise HostError(f"dockerd did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    @staticmethod
    def log_tail(lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def restore(self, grace: float = 30) -> str:
        """Stop the daemon if this check started it; a daemon found running is left alone."""
        process, self.started = self.started, None
        if process is None:
            return "left running (found running)"
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return "stopped (this check started it)"


def compose_command() -> list[str]:
    """`docker compose` (the v2 plugin) when present, else Debian's `docker-compose` (v1.29)."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise HostError("neither `docker compose` nor `docker-compose` is installed: apt-get install -y docker-compose")


class Compose:
    """One compose project (`-p`), run from a folder holding compose.yaml and an env file."""

    def __init__(self, project: str, directory: Path, env_file: Path, env: Mapping[str, str]) -> None:
        self.base = [
            *compose_command(),
            "--project-name",
            project,
            "--project-directory",
            str(directory),
            "--file",
            str(directory / "compose.yaml"),
            "--env-file",
            str(env_file),
        ]
        self.directory = directory
        self.env = dict(env)

    def __call__(self, *args: str, capture: bool = True, timeout: float = 600) -> str:
        return run([*self.base, *args], env=self.env, cwd=self.directory, capture=capture, timeout=timeout)

    def container_id(self, service: str) -> str:
        ids = self("ps", "-q", service).split()
        if not ids:
            raise HostError(f"no container for service {service}")
        return ids[0]


def inspect(container: str, template: str) -> str:
    return run(["docker", "inspect", "--format", template, container]).strip()


def wait_healthy(container: str, timeout: float) -> float:
    """Seconds until docker reports the container healthy; HostError after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if inspect(container, "{{if .State.Health}}{{.State.Health.Status}}{{end}}") == "healthy":
            return time.monotonic() - start
        time.sleep(0.25)
    logs = subprocess.run(["docker", "logs", "--tail", "8", container], capture_output=True, text=True, check=False)
    tail = f"{logs.stderr}{logs.stdout}".strip()
    raise HostError(f"container {container[:12]} not healthy after {timeout:.0f}s; its last lines:\n{tail}")
