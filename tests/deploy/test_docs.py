"""docs/deploy.md stays true to the code: the ACLs name every topic the topology declares, the
group and the transactional-id prefix the worker uses by default, and it links only to pages and
headings that exist."""

from __future__ import annotations

import re

from tests.deploy.kit import DEPLOY_DOC, ROOT
from tests.deploy.test_observability import anchors
from worker.settings import Settings
from worker.topology import declare

TEXT = DEPLOY_DOC.read_text(encoding="utf-8")


def section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else None]


def test_the_acls_cover_every_topic_of_the_topology() -> None:
    acls = section("Kafka principals and ACLs")
    missing = [t.name for t in declare().topics if f"`{t.name}`" not in acls]
    assert missing == []


def test_the_acls_name_the_default_group_and_transactional_prefix() -> None:
    acls = section("Kafka principals and ACLs")
    defaults = Settings()
    assert f"group `{defaults.group_id}`" in acls
    assert f"prefixed `{defaults.txn_prefix}.`" in acls


def test_links_lead_to_pages_and_headings_that_exist() -> None:
    for target in re.findall(r"\]\(([^)]+)\)", TEXT):
        page, _, anchor = target.partition("#")
        path = DEPLOY_DOC.parent / page if page else DEPLOY_DOC
        assert path.exists(), target
        if anchor:
            assert anchor in anchors(path.read_text(encoding="utf-8")), target
    assert (ROOT / "docs" / "operations.md").exists()
