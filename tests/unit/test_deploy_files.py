"""The deployment files name only settings that exist, and the env example covers compose.yaml."""

from __future__ import annotations

import re
from pathlib import Path

from giftcard_connector.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def names(path: Path) -> set[str]:
    return set(re.findall(r"^\s*([A-Z][A-Z0-9_]+)=", path.read_text(), flags=re.MULTILINE))


def test_processor_env_example_names_only_processor_settings() -> None:
    assert names(ROOT / "deploy" / "processor.env.example") - set(Settings.model_fields) == set()


def test_compose_env_example_sets_every_variable_compose_yaml_reads() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "compose.yaml").read_text()))
    # BASE_IMAGE is a build argument with a default, for building the image through compose.
    assert used - names(ROOT / "deploy" / "compose.env.example") == {"BASE_IMAGE"}


def test_haproxy_reads_only_what_compose_passes_it() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", (ROOT / "deploy" / "haproxy.cfg").read_text()))
    lb = (ROOT / "compose.yaml").read_text().split("\n  lb:\n", 1)[1]
    passed = set(re.findall(r"^      ([A-Z][A-Z0-9_]+):", lb, flags=re.MULTILINE))
    assert used and used <= passed
