"""`make demo` (python -m giftcard_devkit.demo) as a user runs it: the URL, a clean stop on SIGINT and SIGTERM."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from giftcard_devkit.processes import devkit_env, free_port

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the emulator needs it)")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has already exited


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_starts_prints_the_url_and_stops_cleanly(signum: signal.Signals, tmp_path: Path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "giftcard_devkit.demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**devkit_env(), "DEMO_DATA_DIR": str(tmp_path / "demo")},  # never the checkout's .demo/
    )
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        output = "".join(lines)
        assert "starting commercetools emulator… ok" in output, output
        assert f"Open the demo shop: http://127.0.0.1:{port}/" in output
        processor_url = re.search(r"Processor: (\S+)", output)
        assert processor_url is not None
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        children = _children(demo.pid)
        assert len(children) >= 3  # emulator, ledger, Processor

        demo.send_signal(signum)
        assert demo.wait(timeout=30) == 0
        rest = demo.stdout.read()
        assert "stopped" in rest
        time.sleep(0.5)
        assert not [pid for pid in children if _alive(pid)]
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{processor_url.group(1)}/health", timeout=2)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
