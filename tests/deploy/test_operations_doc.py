"""docs/operations.md stays true to the settings: every variable a worker reads is in one of its
tables, and the tables name no variable that does not exist."""

from __future__ import annotations

import re

from tests.deploy.kit import ROOT
from worker.audit.signing import SigningSettings
from worker.settings import Settings
from worker.topology import Topics

TEXT = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
# The table rows' first cells: where a variable is documented, with its default.
FIRST_CELLS = " ".join(line.split("|")[1] for line in TEXT.splitlines() if line.startswith("| `"))


def env_names() -> set[str]:
    prefix = Settings.model_config.get("env_prefix", "")
    names = {f"{prefix}{name}".upper() for name in Settings.model_fields if name != "topics"}
    signing = SigningSettings.model_config.get("env_prefix", "")
    names |= {f"{signing}{name}".upper() for name in SigningSettings.model_fields}
    return names


def test_every_setting_is_in_a_table() -> None:
    missing = sorted(n for n in env_names() if f"`{n}`" not in FIRST_CELLS)
    assert missing == []


def test_every_topic_name_setting_is_in_the_table() -> None:
    missing = [n for n in Topics.model_fields if f"`__{n.upper()}`" not in FIRST_CELLS
               and f"`ONCOSCRUB_TOPICS__{n.upper()}`" not in FIRST_CELLS]  # fmt: skip
    assert missing == []


def test_the_tables_name_only_settings_that_exist() -> None:
    known = env_names() | {"ONCOSCRUB_TOPICS__SUBMITTED"}
    named = set(re.findall(r"`(ONCOSCRUB_[A-Z_]+)`", FIRST_CELLS))
    assert named - known == set()
