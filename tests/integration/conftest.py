from tests.support.emulator_fixture import emulator
from tests.support.processor_fixture import api, processor_server

__all__ = ["api", "emulator", "processor_server"]
