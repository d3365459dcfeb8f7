from tests.support.emulator_fixture import emulator
from tests.support.fault_stack import fault_ledger, fault_stack, stack
from tests.support.processor_fixture import api, processor_server

__all__ = ["api", "emulator", "fault_ledger", "fault_stack", "processor_server", "stack"]
