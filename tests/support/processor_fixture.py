"""A real Processor (`giftcard-connector serve`, mock provider) against the emulator, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import ServiceProcess, processor


@pytest.fixture(scope="session")
def processor_server(emulator: Emulator) -> Iterator[ServiceProcess]:
    env = {**emulator.processor_env(), "GIFTCARD_PROVIDER": "mock", "LOG_LEVEL": "WARNING"}
    with processor(env) as server:
        yield server


@pytest.fixture
def api(processor_server: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=processor_server.base_url, timeout=15.0) as client:
        yield client
