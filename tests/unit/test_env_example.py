""".env.example names every setting of the Processor and the ledger."""

from __future__ import annotations

import re
from pathlib import Path

from giftcard_connector.ledger.settings import LedgerSettings
from giftcard_connector.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def named() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), flags=re.MULTILINE))


def test_every_processor_setting_is_in_env_example() -> None:
    assert set(Settings.model_fields) - named() == set()


def test_every_ledger_setting_is_in_env_example() -> None:
    prefix = str(LedgerSettings.model_config.get("env_prefix", ""))
    expected = {f"{prefix}{name}".upper() for name in LedgerSettings.model_fields}
    assert expected - named() == set()


def test_env_example_names_nothing_that_does_not_exist() -> None:
    prefix = str(LedgerSettings.model_config.get("env_prefix", "")).upper()
    known = set(Settings.model_fields) | {f"{prefix}{name}".upper() for name in LedgerSettings.model_fields}
    read_by_libraries = {"OTEL_EXPORTER_OTLP_ENDPOINT"}
    assert named() - known - read_by_libraries == set()
