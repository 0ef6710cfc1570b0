"""X12 837 interchanges and FHIR claim Bundles on ``claims.submitted``, through the worker on
the real broker (issue 14): one decision and one audit event per claim of an interchange,
the corrected 837 on a scrubbed claim, broken interchanges and Bundles dead-lettered with
located reasons, and no patient identifier in any line the worker logs."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from x12sdk.generate import generate_837p

from deploy.kafkatools import (
    Cluster,
    InProcessWorker,
    Outputs,
    WorkerProcess,
    connection,
    wait_for_decisions,
)
from schemas import AuditEvent, Outcome
from schemas.decision import ReasonCode, ReviewRequest, ScrubbedClaim
from tests.broker.test_crash_and_rebalance import assert_chain_intact
from tests.ingest.conftest import ALIASES, KEY, sample
from tests.ingest.fhir_builder import claim_bundle, mar_bundle
from tests.ingest.x12_builder import interchange, phi_strings
from worker.broker_churn import LIBRARIES
from worker.decide import Judging
from worker.ingest.record import IngestOptions
from worker.ingest.x12 import X12Options, parse_837
from worker.ingest_judge import ClaimJudgement, judge_record
from worker.settings import Settings
from worker.topology import Topics

pytestmark = pytest.mark.broker

X12 = "application/edi-x12"
FHIR = "application/fhir+json"
# What the worker needs to read X12 and FHIR: the patient reference key and the payer aliases.
INGEST: dict[str, Any] = {"patient_ref_key": KEY.decode(), "payer_aliases": ALIASES}
INGEST_ENV = {
    "ONCOSCRUB_PATIENT_REF_KEY": KEY.decode(),
    "ONCOSCRUB_PAYER_ALIASES": json.dumps(ALIASES),
}

Item = tuple[bytes | None, bytes, str | None]  # key, value, content-type (None: no header)


async def publish(cluster: Cluster, topic: str, items: Iterable[Item]) -> None:
    """Publish as a platform would, with a ``content-type`` header when one is given
    (``deploy.kafkatools.produce`` sends none)."""
    producer = AIOKafkaProducer(
        **connection(cluster).options(), enable_idempotence=True, max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    try:
        for key, value, content_type in items:
            headers = [] if content_type is None else [("content-type", content_type.encode())]
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def generated_837(claims: int, seed: int = 14) -> str:
    # x12sdk 2.2.0 writes the ICD-9 qualifier BK beside ICD-10 codes (tests/ingest notes it).
    return generate_837p(seed=seed, claims=claims, dependent_rate=0.4).replace("HI*BK:", "HI*ABK:")


def clm01s(text: str) -> list[str]:
    return [s.strip().split("*")[1] for s in text.split("~") if s.strip().startswith("CLM*")]


def identifiers_in(text: str) -> set[str]:
    """The names, member ids and birth dates an interchange carries (subscribers, patients)."""
    found: set[str] = set()
    for segment in (s.strip() for s in text.split("~")):
        e = segment.split("*")
        if e[0] == "NM1" and e[1] in ("IL", "QC"):
            found.update(v for v in (e[3], e[4], *e[9:10]) if v)
        elif e[0] == "DMG":
            found.add(e[2])
    return found


def fhir_dates(values: Iterable[str]) -> set[str]:
    """A CCYYMMDD birth date as a FHIR Patient writes it too."""
    return {f"{v[:4]}-{v[4:6]}-{v[6:]}" for v in values if re.fullmatch(r"(19|20)\d{6}", v)}


def leaked(said: str, identifiers: Iterable[str]) -> list[str]:
    """The identifiers found in ``said`` as whole words (any case)."""
    return sorted(
        v
        for v in set(identifiers)
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", said, re.IGNORECASE)
    )


PHI = {*phi_strings(), *fhir_dates(phi_strings())}


def assert_nothing_identifying_logged(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, extra: Iterable[str] = ()
) -> None:
    out, err = capfd.readouterr()
    said = "\n".join([out, err, *(r.getMessage() for r in caplog.records)])
    assert said.strip(), "nothing was logged: the scan would prove nothing"
    identifiers = {*PHI, *extra}
    where = Counter(
        f"{r.name}: {r.getMessage()[:60]}"
        for r in caplog.records
        if leaked(r.getMessage(), identifiers)
    )
    where.update(
        f"fd: {line[:120]}" for line in (out + err).splitlines() if leaked(line, identifiers)
    )
    assert leaked(said, identifiers) == [], where.most_common(5)


def audit_events(out: Outputs) -> list[AuditEvent]:
    return [AuditEvent.model_validate_json(r.value) for r in out.audit]


def offline(
    raw: str, key: bytes, content_type: str | None, settings: Settings
) -> tuple[ClaimJudgement, ...]:
    """The record judged as batch mode judges it, with the worker's limits."""
    judging = Judging(settings.max_claim_bytes, settings.max_decision_bytes)
    return judge_record(raw.encode(), key, content_type, judging, IngestOptions(KEY, ALIASES))


def by_claim_id(records: Sequence[ConsumerRecord[bytes, bytes]]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for r in records:
        claim_id = json.loads(r.value)["claim_id"]
        assert claim_id not in out, f"{claim_id} decided twice"
        out[claim_id] = r.value
    return out


def capture_worker_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Every line of ours; the Kafka clients' from INFO, as ``worker.logs.configure`` sets
    them at any level (their DEBUG lines print the records sent, the tests' own included)."""
    caplog.set_level("DEBUG")
    for library in LIBRARIES:
        caplog.set_level("INFO", logger=library)


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    capture_worker_logs(caplog)


@pytest.mark.parametrize("content_type", [X12, None], ids=["header", "sniffed"])
async def test_an_interchange_of_many_claims_gives_one_decision_and_audit_event_per_claim(
    kafka_bootstrap: str,
    topics: Topics,
    content_type: str | None,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = generated_837(40)
    claim_ids = clm01s(text)
    assert len(set(claim_ids)) == 40
    await publish(
        kafka_bootstrap, topics.submitted, [(b"interchange-1", text.encode(), content_type)]
    )

    async with InProcessWorker(kafka_bootstrap, topics, **INGEST) as worker:
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=40, timeout=120)
        settings = worker.settings

    assert out.dead_letter == [] and len(out.decisions) == len(out.audit) == 40
    events = audit_events(out)
    [(topic, partition, offset)] = {
        (e.source.topic, e.source.partition, e.source.offset) for e in events
    }
    assert topic == topics.submitted  # one record: every claim in its transaction
    # Event ids: the record's, then the claim's place in the interchange (its CLM01's).
    by_event = {e.event_id: e for e in events}
    assert len(by_event) == 40
    assert {
        f"{topics.submitted}:{partition}:{offset}#claim:{n}": claim_id
        for n, claim_id in enumerate(claim_ids, start=1)
    } == {event_id: e.claim_id for event_id, e in by_event.items()}
    await assert_chain_intact(connection(kafka_bootstrap), topics, 40)

    # Each claim decided exactly as batch mode decides it, keyed by its CLM01.
    judged = offline(text, b"interchange-1", content_type, settings)
    assert [j.judgement.claim_id for j in judged] == claim_ids
    decided = by_claim_id(out.decisions)
    assert set(decided) == set(claim_ids)
    assert all(r.key == json.loads(r.value)["claim_id"].encode() for r in out.decisions)
    for j in judged:
        assert decided[j.judgement.claim_id or ""] == j.judgement.body
    for e in events:
        # The audit event keeps the v1 JSON decided and the one-claim interchange it came as.
        assert e.input_b64 is not None and e.source_b64 is not None
        assert json.loads(base64.b64decode(e.input_b64))["claim_id"] == e.claim_id
        (kept,) = parse_837(base64.b64decode(e.source_b64), X12Options(KEY, ALIASES))
        assert kept.claim_id == e.claim_id

    # A scrubbed claim carries its corrected 837, which reads back as the same claim.
    assert out.scrubbed, Counter(e.outcome for e in events)
    for r in out.scrubbed:
        body = ScrubbedClaim.model_validate_json(r.value)
        assert body.corrected_x12 is not None
        (again,) = parse_837(body.corrected_x12, X12Options(KEY, ALIASES))
        assert again.reasons == () and again.claim_id == body.claim_id
        assert again.claim is not None and again.claim.patient_ref == body.claim.patient_ref
    for r in out.review:
        review = ReviewRequest.model_validate_json(r.value)
        assert review.x12_locations is not None
        assert [x.rule_id for x in review.x12_locations] == [f.rule_id for f in review.findings]
    assert_nothing_identifying_logged(capfd, caplog, identifiers_in(text))


async def test_broken_interchanges_are_dead_lettered_and_a_bad_claim_is_reviewed_alone(
    kafka_bootstrap: str,
    topics: Topics,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = interchange([sample("02-office-visit.json")] * 2, "P")
    cut = text[: text.index("IEA*")]  # truncated: the interchange is never closed
    miscounted = text.replace("\nSE*", "\nSE*9", 1)  # SE01 is not the segment count
    docs = [sample(n) for n in ("02-office-visit.json", "04-no-diagnoses.json")]
    docs.append(sample("13-nurse-visit-with-chemo.json"))
    mixed = interchange(docs, "P", dependents=(1,))
    # One partition, so the dead letters come in the order published.
    await publish(
        kafka_bootstrap,
        topics.submitted,
        [(b"cut", cut.encode(), X12), (b"miscounted", miscounted.encode(), None)],
    )
    await publish(kafka_bootstrap, topics.submitted, [(b"mixed", mixed.encode(), X12)])

    async with InProcessWorker(kafka_bootstrap, topics, **INGEST):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=5, timeout=120)

    assert len(out.decisions) == len(out.audit) == 5
    dead = {r.key: r for r in out.dead_letter}
    assert set(dead) == {b"cut", b"miscounted"}
    expected = {b"cut": "(end of the interchange): IEA expected", b"miscounted": "(SE) SE01"}
    for key, record in dead.items():
        headers = dict(record.headers)
        assert headers["x-reason"] == ReasonCode.X12_ENVELOPE.value.encode()
        detail = headers["x-reason-detail"].decode()
        assert detail.startswith("segment ") and expected[key] in detail, detail
        assert record.value == (cut if key == b"cut" else miscounted).encode()  # kept whole
        said = b"\n".join(v for _, v in record.headers).decode()
        assert leaked(said, [*PHI, docs[0]["claim_id"]]) == []
        assert "02-office" not in said and "CLM" not in said

    # The bad claim (no diagnosis) goes to review alone; the others are decided as usual.
    events = {e.claim_id: e for e in audit_events(out) if e.outcome is not Outcome.DEAD_LETTER}
    assert set(events) == {d["claim_id"] for d in docs}
    bad = events[docs[1]["claim_id"]]
    assert bad.outcome is Outcome.NEEDS_REVIEW and bad.reasons == (ReasonCode.X12_CLAIM_INVALID,)
    [review] = [
        ReviewRequest.model_validate_json(r.value)
        for r in out.review
        if r.key == docs[1]["claim_id"].encode()
    ]
    (reason,) = review.reasons
    assert reason.location is not None and reason.location.endswith("loop 2300 HI")
    assert leaked(f"{reason.location} {reason.message}", PHI) == []
    for good in (docs[0], docs[2]):
        assert events[good["claim_id"]].reasons != (ReasonCode.X12_CLAIM_INVALID,)
        assert events[good["claim_id"]].outcome is Outcome.SCRUBBED
    assert {e.source.offset for e in events.values()} == {next(iter(events.values())).source.offset}
    await assert_chain_intact(connection(kafka_bootstrap), topics, 5)
    assert_nothing_identifying_logged(capfd, caplog)


async def test_a_fhir_bundle_is_decided_and_an_invalid_one_dead_lettered_with_located_reasons(
    kafka_bootstrap: str,
    topics: Topics,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = sample("01-facility-chemo.json")
    bundle = claim_bundle(doc)
    broken = json.loads(bundle)
    for entry in broken["entry"]:
        if entry["resource"]["resourceType"] == "Claim":
            entry["resource"]["billablePeriod"] = {"start": "2026-13-45"}
    invalid = json.dumps(broken)
    await publish(
        kafka_bootstrap,
        topics.submitted,
        [(b"bundle", bundle.encode(), FHIR), (b"invalid", invalid.encode(), FHIR)],
    )

    async with InProcessWorker(kafka_bootstrap, topics, **INGEST) as worker:
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=120)
        settings = worker.settings

    assert len(out.decisions) == len(out.audit) == 2
    [dead] = out.dead_letter
    headers = dict(dead.headers)
    assert dead.key == b"invalid" and dead.value == invalid.encode()
    assert headers["x-reason"] == ReasonCode.FHIR_INVALID.value.encode()
    detail = headers["x-reason-detail"].decode()
    assert detail.startswith("Bundle.entry[") and "2026-13-45" not in detail, detail
    assert leaked(b"\n".join(v for _, v in dead.headers).decode(), PHI) == []

    [decided] = [r for r in out.decisions if r.key != b"invalid"]
    (judged,) = offline(bundle, b"bundle", FHIR, settings)
    assert decided.key == doc["claim_id"].encode() and decided.value == judged.judgement.body
    [event] = [e for e in audit_events(out) if e.claim_id == doc["claim_id"]]
    assert event.event_id.endswith("#claim:1")
    assert base64.b64decode(event.source_b64 or "") == bundle.encode()  # kept as it came
    assert json.loads(base64.b64decode(event.input_b64 or ""))["administrations"]  # its MAR
    await assert_chain_intact(connection(kafka_bootstrap), topics, 2)
    assert_nothing_identifying_logged(capfd, caplog)


async def test_no_name_member_id_or_birth_date_reaches_a_worker_log_line(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    """Every form, good and broken, and the MAR join, through ``oncoscrub worker`` logging at
    DEBUG with decision lines on: its whole log (pool processes included) is scanned."""
    generated = generated_837(40, seed=5)
    docs = [sample(n) for n in ("02-office-visit.json", "04-no-diagnoses.json")]
    mixed = interchange(docs, "P", dependents=(1,))
    broken = interchange(docs[:1], "P").replace("\nSE*", "\nSE*9", 1)
    chemo = sample("13-nurse-visit-with-chemo.json")
    bundle = claim_bundle(sample("01-facility-chemo.json"))
    invalid = bundle.replace('"birthDate": "', '"birthDate": "x')
    env = {
        **INGEST_ENV,
        "ONCOSCRUB_MAR_JOIN": "true",
        "ONCOSCRUB_MAR_KEEP_DAYS": "3650",  # the sample's MAR is months old
        "ONCOSCRUB_LOG_LEVEL": "DEBUG",
        "ONCOSCRUB_LOG_DECISIONS": "true",
    }
    worker = WorkerProcess(kafka_bootstrap, topics, "phi-scan", tmp_path, env)
    try:
        await publish(
            kafka_bootstrap,
            topics.submitted,
            [
                (b"generated", generated.encode(), X12),
                (b"mixed", mixed.encode(), None),
                (b"broken", broken.encode(), X12),
                (b"chemo", interchange([chemo], "P").encode(), X12),
                (b"bundle", bundle.encode(), FHIR),
                (b"invalid", invalid.encode(), FHIR),
            ],
        )
        first = 40 + 2 + 1 + 1 + 1 + 1
        await wait_for_decisions(kafka_bootstrap, topics, expected=first, timeout=180)
        await publish(
            kafka_bootstrap, topics.mar_submitted, [(b"mar", mar_bundle(chemo).encode(), FHIR)]
        )
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=first + 1, timeout=120)
        assert worker.terminate() == 0
    finally:
        if worker.alive():
            worker.kill()

    events = audit_events(out)
    assert len(events) == first + 1
    assert [e.claim_id for e in events if e.supersedes] == [chemo["claim_id"]]
    assert {r.key for r in out.dead_letter} == {b"broken", b"invalid"}
    lines = worker.log_lines()
    assert any('"batch_committed"' in line for line in lines)
    identifiers = {*PHI, *identifiers_in(generated), *fhir_dates(identifiers_in(generated))}
    found = {v: [n for n, line in enumerate(lines) if leaked(line, [v])][:3] for v in
             leaked("\n".join(lines), identifiers)}  # fmt: skip
    assert found == {}, [lines[n][:300] for ns in found.values() for n in ns][:5]
