"""Hostile input is decided, never raised: bounded parsing, duplicate keys, characters that
are never text, implausible dates and versions, failures anywhere in deciding a record."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from schemas import AuditEvent, Outcome, ReasonCode, ReviewRequest, SourceRef
from schemas.examples import example_claim, max_size_claim
from worker import limits
from worker.decide import DecisionContext, decide
from worker.topology import Topics, declare

TOPICS = Topics()
CTX = DecisionContext(topology=declare(TOPICS), worker_id="w", max_claim_bytes=1_000_000)
AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SRC = SourceRef(topic=TOPICS.submitted, partition=0, offset=5)


def run(raw: bytes, key: bytes | None = None):  # type: ignore[no-untyped-def]
    return decide(raw, key, SRC, CTX, AT)


def review_of(raw: bytes) -> ReviewRequest:
    d = run(raw)
    assert d.outcome is Outcome.NEEDS_REVIEW, d.reasons
    return ReviewRequest.model_validate_json(d.decision.value)


@pytest.mark.parametrize("depth", [300, 1_000, 100_000, 150_000])
def test_json_nested_beyond_the_bound_is_dead_lettered_not_raised(depth: int) -> None:
    for raw in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        d = run(raw)
        assert d.outcome is Outcome.DEAD_LETTER
        assert d.reasons == (ReasonCode.NESTED_TOO_DEEP,)
        assert dict(d.decision.headers)["x-reason"] == b"nested_too_deep"
        assert d.decision.value == raw


def test_nesting_within_the_bound_is_read() -> None:
    claim = example_claim(1)
    claim["deep"] = json.loads("[" * 150 + "]" * 150)
    review = review_of(json.dumps(claim).encode())
    assert [r.location for r in review.reasons] == ["<unexpected field>"]


def test_a_deep_value_behind_a_duplicate_key_is_still_bounded() -> None:
    raw = b'{"a":1,"a":2,"b":' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert run(raw).reasons == (ReasonCode.NESTED_TOO_DEEP,)


def test_duplicate_keys_go_to_review_located_without_echoing_unknown_keys() -> None:
    claim = json.dumps(example_claim(2))
    raw = claim[:-1] + ', "patient_ref": "PSN-second", "Jane Doe": 1, "Jane Doe": 2}'
    review = review_of(raw.encode())
    assert {r.location for r in review.reasons} == {"patient_ref", "<unexpected field>"}
    assert all(r.code is ReasonCode.SCHEMA_INVALID for r in review.reasons)
    assert all(r.message.startswith("duplicate_key") for r in review.reasons)
    assert "Jane" not in review.model_dump_json(exclude={"original_b64"})
    assert review.claim_id == "CLM-00000002" and review.claim is None
    assert base64.b64decode(review.original_b64 or "") == raw.encode()


def test_a_nested_duplicate_is_located_by_its_path() -> None:
    raw = json.dumps(example_claim(3)).replace('"units": "', '"units": "1", "units": "', 1)
    review = review_of(raw.encode())
    assert [r.location for r in review.reasons] == ["service_lines.0.units"]


def test_a_repeated_claim_id_leaves_the_claim_without_one() -> None:
    raw = json.dumps(example_claim(4))[:-1] + ', "claim_id": "CLM-OTHER"}'
    d = run(raw.encode(), key=b"platform-key")
    assert d.claim_id is None and d.decision.key == b"platform-key"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("payer", "name"), "Medicare\x00"),
        (("payer", "name"), "Medi\u202ecare"),
        (("administrations", 0, "drug", "name"), "cis\u2066platin"),
        (("administrations", 0, "drug", "dose_unit"), "mg\n"),
        (("administrations", 0, "drug", "dose_unit"), "m\u200fg"),
        (("claim_id",), "CLM-1\u202e"),
        (("service_lines", 0, "code"), "J92\x0001"),
    ],
)
def test_control_and_bidirectional_characters_are_refused(
    path: tuple[str | int, ...], value: str
) -> None:
    claim = example_claim(5)
    node = claim
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    review = review_of(json.dumps(claim).encode())
    locations = {r.location for r in review.reasons}
    assert ".".join(str(p) for p in path) in locations
    assert value not in review.model_dump_json(exclude={"original_b64"})


def test_free_text_may_still_hold_a_line_break() -> None:
    claim = example_claim(6, administrations=1)
    claim["payer"]["name"] = "Medicare\nPart B"
    assert run(json.dumps(claim).encode()).outcome is Outcome.SCRUBBED


@pytest.mark.parametrize(
    ("field", "value", "location"),
    [
        ("claim_version", 10**60, "claim_version"),
        ("claim_version", 10_000, "claim_version"),
        ("statement_from", "0001-01-01", "statement_from"),
        ("statement_to", "9999-12-31", "statement_to"),
    ],
)
def test_implausible_versions_and_dates_are_refused(
    field: str, value: object, location: str
) -> None:
    claim = example_claim(7)
    claim[field] = value
    assert location in {r.location for r in review_of(json.dumps(claim).encode()).reasons}


def test_a_mar_time_in_year_9999_is_refused() -> None:
    claim = example_claim(8, administrations=1)
    claim["administrations"][0]["stop"] = "9999-01-01T00:00:00+00:00"
    locations = {r.location for r in review_of(json.dumps(claim).encode()).reasons}
    assert "administrations.0.stop" in locations


def test_an_implausible_version_is_not_carried_into_the_review() -> None:
    claim = example_claim(9)
    claim["claim_version"] = 10**60
    assert review_of(json.dumps(claim).encode()).claim_version is None


def test_a_failure_anywhere_in_deciding_is_contained_to_the_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("somewhere in building the decision")

    monkeypatch.setattr("worker.decide.ScrubbedClaim", broken)
    raw = json.dumps(example_claim(10)).encode()
    d = run(raw)
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reasons == (ReasonCode.ENGINE_ERROR,)
    review = ReviewRequest.model_validate_json(d.decision.value)
    assert review.reasons[0].message == "deciding failed: RecursionError"
    assert review.claim_id == "CLM-00000010"
    assert base64.b64decode(review.original_b64 or "") == raw
    assert AuditEvent.model_validate_json(d.audit.value).reasons == (ReasonCode.ENGINE_ERROR,)


def test_a_decision_larger_than_its_topic_takes_goes_to_review_with_the_original_only() -> None:
    raw = json.dumps(max_size_claim(11)).encode()
    normal = run(raw)
    # The tightest limit the arithmetic allows: a review carrying this claim's bytes.
    cap = limits.smallest_decision_cap(len(raw))
    assert len(normal.decision.value) > cap
    small = DecisionContext(
        topology=CTX.topology, worker_id="w", max_claim_bytes=len(raw), max_decision_bytes=cap
    )
    d = decide(raw, None, SRC, small, AT)
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reasons == (ReasonCode.DECISION_TOO_LARGE,)
    assert len(d.decision.value) <= small.max_decision_bytes
    review = ReviewRequest.model_validate_json(d.decision.value)
    assert review.claim is None and base64.b64decode(review.original_b64 or "") == raw


def test_a_hostile_input_key_is_replaced_by_its_digest_on_decisions_not_dead_letters() -> None:
    key = b"k" * 100_000
    invalid = run(b'{"claim_id": 5}', key=key)
    assert invalid.decision.key is not None and invalid.decision.key.startswith(b"sha256:")
    assert len(invalid.decision.key) == 71 and invalid.audit.key == invalid.decision.key
    dead = run(b"not json", key=key)
    assert dead.decision.key == key  # the dead letter keeps the input record whole
    assert dead.audit.key is not None and dead.audit.key.startswith(b"sha256:")


@pytest.mark.parametrize(
    "raw",
    [b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}', b"NaN", b"1e999999", b'{"a": 1e999999}', b"\x00"],
)
def test_edge_encodings_are_routed_with_a_reason(raw: bytes) -> None:
    d = run(raw)
    assert d.reasons, d
    assert d.outcome in (Outcome.DEAD_LETTER, Outcome.NEEDS_REVIEW)
