"""Explanations a coder can act on: every finding of every rule says what is wrong, why and what
to do, and its citations lead with an authoritative source that has an address (the ICD-10-CM
Official Guidelines, a CMS manual, the NCCI Policy Manual or edit files, a CMS article or LCD,
a CPT guideline by name, or the payer's own written policy); the specification comes last."""

from __future__ import annotations

import importlib
from urllib.parse import urlparse

import pytest

from rules.catalogue import RULES, case_file
from rules.sources import AUTHORITIES, SOURCES, SPECIFICATION
from schemas.base import SHORT_TEXT_MAX
from schemas.decision import Citation, Finding
from tests.rules.rule_cases import RuleCase, decide

AUTHORITY_TITLES = {d.title for d in AUTHORITIES.values()}
# Where an authoritative document lives: CMS and HHS, the AMA (CPT), the ABIM Foundation's
# Choosing Wisely lists; a payer row's document is the payer's own address.
AUTHORITY_HOSTS = ("cms.gov", "hhs.gov", "ama-assn.org", "choosingwisely.org")


def _case(rule_id: str) -> RuleCase:
    module = importlib.import_module(case_file(rule_id).removesuffix(".py").replace("/", "."))
    case: RuleCase = module.CASES[rule_id]
    return case


def _authoritative(c: Citation) -> bool:
    return c.source in AUTHORITY_TITLES or (c.source.endswith(")") and "payer policy" in c.source)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rule_leads_with_an_authority_that_has_an_address(rule_id: str) -> None:
    rule = RULES[rule_id]
    assert rule.authority, f"{rule_id} names no authoritative source"
    for c in rule.authority:
        assert c.source in AUTHORITY_TITLES and c.url
        url = urlparse(c.url)
        assert url.scheme == "https" and url.hostname
        assert url.hostname.endswith(AUTHORITY_HOSTS), c.url
    assert rule.citations[: len(rule.authority)] == rule.authority
    assert rule.citations[-1].source == SPECIFICATION and rule.citations[-1].section
    # Every citation between them (the supporting sources, the data files) has an address.
    assert all(c.url for c in rule.citations[:-1])
    assert rule.why.endswith(".") and rule.action


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_finding_of_every_rule_says_what_why_and_what_to_do(rule_id: str) -> None:
    rule = RULES[rule_id]
    findings = [f for f in decide(_case(rule_id).fires).findings if f.rule_id == rule_id]
    if not findings:  # a rule that only cites computed lines: its message as it would read
        findings = [rule.finding("A line was coded.")]
    for f in findings:
        assert _authoritative(f.citations[0]) and f.citations[0].url, f.citations[0]
        assert f.citations[-1].source == SPECIFICATION
        assert f" Why: {rule.why} What to do: " in f.message
        assert len(f.message) <= SHORT_TEXT_MAX
        what = f.message.split(" Why: ")[0]
        assert what and not what.startswith(("Why", "What to do"))


def test_a_suggested_correction_is_the_what_to_do() -> None:
    rule = RULES["NCCI-MUE"]
    f = rule.finding("96368 on 2026-05-04: 2 units.", suggested_correction="bill at most 1 unit")
    assert f.message.endswith("What to do: Bill at most 1 unit.")
    plain = rule.finding("96368 on 2026-05-04: 2 units.")
    assert plain.message.endswith(f"What to do: {rule.action}.")


def test_a_long_message_is_shortened_in_what_is_wrong_never_in_why_or_what_to_do() -> None:
    rule = RULES["COV-PROTON"]
    f: Finding = rule.finding("x" * 600)
    assert len(f.message) == SHORT_TEXT_MAX
    assert f.message.endswith(f"What to do: {rule.action}.") and "x…" in f.message


def test_the_supporting_sources_are_titled_and_addressed() -> None:
    for key, doc in SOURCES.items():
        assert doc.title and urlparse(doc.url).scheme in ("https", "http"), key
    used = {s for r in RULES.values() for s in r.sources}
    assert used <= set(SOURCES)
