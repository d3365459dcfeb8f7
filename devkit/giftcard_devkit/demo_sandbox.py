"""Where a running demo leaves what other tools need to join it (`make session`, the ledger CLI).

The demo's data directory (`DEMO_DATA_DIR`, default `.demo/` in the checkout) keeps the ledger database
and its secrets across starts; while the demo runs, `running.json` there names its addresses.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from giftcard_devkit.emulator import find_devkit_dir

RUNNING_FILE = "running.json"


def default_data_dir() -> Path:
    configured = os.environ.get("DEMO_DATA_DIR", "").strip()
    return Path(configured) if configured else find_devkit_dir().parent / ".demo"


def write_running(data_dir: Path, info: dict[str, Any]) -> Path:
    path = data_dir / RUNNING_FILE
    path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)  # it names the emulator's client secret
    return path


def read_running(data_dir: Path) -> dict[str, Any]:
    path = data_dir / RUNNING_FILE
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LookupError(f"no running demo found ({path} is missing): start it with `make demo`") from error
    return info


def remove_running(data_dir: Path) -> None:
    (data_dir / RUNNING_FILE).unlink(missing_ok=True)


def parse_origins(text: str) -> tuple[str, ...]:
    """`DEMO_ALLOWED_ORIGINS`: comma-separated origins such as `http://localhost:8000`."""
    return tuple(origin.strip().rstrip("/") for origin in text.split(",") if origin.strip())


def shell_env(env: dict[str, str]) -> str:
    """`export NAME=value` lines, quoted so they paste into a shell as they are."""
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in env.items())
