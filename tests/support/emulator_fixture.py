"""Session-scoped pytest fixture: a running commercetools emulator (devkit/emulator.mjs).

Use it in a test module with ``from tests.support.emulator_fixture import emulator  # noqa: F401``.
Skips only when ``node`` is not installed; a missing ``devkit/node_modules`` fails ("run make setup").
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from giftcard_devkit.emulator import DevkitNotInstalledError, Emulator, find_devkit_dir


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the commercetools emulator needs Node 20+")
    devkit = find_devkit_dir()
    if not (devkit / "node_modules" / "@labdigital" / "commercetools-mock").is_dir():
        pytest.fail(f"{devkit / 'node_modules'} is missing: run make setup", pytrace=False)
    try:
        emu = Emulator().start()
    except DevkitNotInstalledError as exc:  # pragma: no cover - checked above
        pytest.fail(str(exc), pytrace=False)
    try:
        yield emu
    finally:
        emu.stop()
