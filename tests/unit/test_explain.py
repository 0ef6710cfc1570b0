"""The human rendering of a decision (worker/explain.py) that ``audit show`` prints: findings
with what, why, what to do and their authority, corrections, and each computed line's
derivation, re-derived from the audit event's recorded input."""

from __future__ import annotations

import json

from rules.catalogue import RULES
from schemas.audit import AuditEvent, Outcome
from schemas.decision import ReviewRequest, ScrubbedClaim
from tests.golden.record import AUDIT, DECISIONS
from worker.explain import explain_decision, explain_event


def _events() -> list[AuditEvent]:
    return [AuditEvent.model_validate_json(x) for x in AUDIT.read_bytes().splitlines()]


def _decisions() -> list[bytes]:
    return DECISIONS.read_bytes().splitlines()


def _first(predicate: str) -> tuple[AuditEvent, bytes]:
    for event, body in zip(_events(), _decisions(), strict=True):
        if predicate in body.decode():
            return event, body
    raise AssertionError(predicate)


def test_a_corrected_scrubbed_claim_shows_lines_findings_and_the_correction() -> None:
    event, body = _first('"corrections":[{"rule_id":"BND-B7"')
    assert event.outcome is Outcome.SCRUBBED
    text = explain_event(event)
    assert text[0] == "re-derived from the recorded input: identical to the recorded decision"
    decision = ScrubbedClaim.model_validate_json(body)
    joined = "\n".join(text)
    # Every computed line with its derivation: MAR entries, minutes, the rules by title.
    for line in decision.computed_lines:
        assert f"{line.code}" in joined and line.reason in joined
        assert f"from MAR entries {', '.join(line.admin_ids)}" in joined
        for rule_id in line.rule_ids:
            assert f"{rule_id} ({RULES[rule_id].title})" in joined
    assert "corrections:" in text and any(t.strip().startswith("applied by BND-B7") for t in text)
    # Each finding: its message (what, why, what to do) and its authority with an address.
    for f in decision.findings:
        assert f.message in joined
    authorities = [t for t in text if t.strip().startswith("authority: ")]
    assert len(authorities) == len(decision.findings) and all("<https://" in a for a in authorities)
    assert decision.claim.patient_ref not in joined


def test_a_review_request_says_why_it_needs_review_first() -> None:
    event, body = _first('"reasons":[{"code":"finding"')
    text = explain_event(event)
    review = ReviewRequest.model_validate_json(body)
    why = text.index("why it needs review:")
    assert text[why + 1].strip().startswith(f"finding {review.reasons[0].rule_id}")
    assert any(t.strip().startswith("ERROR ") for t in text)


def test_a_schema_invalid_claim_shows_its_located_reasons_in_plain_words() -> None:
    _, body = _first('"reasons":[{"code":"schema_invalid"')
    review = ReviewRequest.model_validate_json(body)
    text = explain_decision(review)
    for r in review.reasons:
        assert any(f"[{r.location}]: {r.message}" in t for t in text)
    assert "computed lines:" not in text and "findings:" not in text


def test_a_pack_that_is_not_available_or_a_differing_decision_is_said_so() -> None:
    event, _ = _first('"corrections":[{"rule_id":"BND-B7"')
    elsewhere = event.model_copy(
        update={"rule_pack": event.rule_pack.model_copy(update={"version": "1999.1.1"})}
    )
    [said] = explain_event(elsewhere)
    assert "rule pack 1999.1.1" in said and "not available" in said
    assert all(r in said for r in event.rule_ids)
    tampered = event.model_copy(update={"output_sha256": "0" * 64})
    assert explain_event(tampered)[0].endswith("DIFFERS from the recorded decision")


def test_a_dead_letter_has_nothing_to_re_derive() -> None:
    dead = next(e for e in _events() if e.outcome is Outcome.DEAD_LETTER)
    [said] = explain_event(dead)
    assert said.startswith("dead-lettered (") and dead.output_topic in said
    assert json.dumps(said)  # plain text, printable as is
