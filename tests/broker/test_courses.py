"""The course store on the real broker: courses billed over several claims, keyed by claim id
(so a patient's claims land on any submitted partition), repartitioned by patient, decided
against the patient's state, corrected when an earlier claim arrives late, and kept exactly
once through a kill -9 and a rebalance."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deploy.kafkatools import (
    InProcessWorker,
    Outputs,
    WorkerProcess,
    connection,
    produce,
    read_outputs,
)
from schemas import AuditEvent
from schemas.claim import SubmittedClaim
from schemas.decision import ReasonCode, ReviewRequest
from tests.broker.test_crash_and_rebalance import SMALL_BATCHES, assert_chain_intact
from tests.rules.course_builder import claim, days, fx, on, run
from worker.cli_course import read_courses
from worker.settings import Settings
from worker.topology import Topics

pytestmark = pytest.mark.broker

COURSES = {"ONCOSCRUB_COURSES": "true"}
# The worker decides on today's date: courses treated some weeks ago, as claims arrive.
_AGO = datetime.now(UTC).date() - timedelta(days=70)
START = _AGO - timedelta(days=_AGO.weekday())  # a Monday


def course_claims(patient: str, first_day_offset: int = 0) -> list[SubmittedClaim]:
    """A 3D course over five claims (spec R3's shape): planning and simulation, dosimetry,
    then ten fractions and their management over three claims."""
    start = START + timedelta(days=first_day_offset)
    d = days(start, 16)
    made = [
        claim(f"{patient}-plan", on("77263", d[0]), on("77290", d[0])),
        claim(f"{patient}-dosi", on("77295", d[1]), on("77300", d[1]), on("77334", d[1])),
        claim(f"{patient}-fx1", *fx("77412", d[2], 4)),
        claim(f"{patient}-fx2", *fx("77412", d[6], 4), on("77427", d[9])),
        claim(f"{patient}-fx3", *fx("77412", d[10], 2), on("77427", d[11])),
    ]
    return [c.model_copy(update={"patient_ref": patient}) for c in made]


def items(claims: list[SubmittedClaim]) -> list[tuple[bytes | None, bytes]]:
    return [(c.claim_id.encode(), c.model_dump_json().encode()) for c in claims]


def audit_events(out: Outputs) -> list[AuditEvent]:
    return [AuditEvent.model_validate_json(r.value) for r in out.audit]


async def wait_for_claims(
    bootstrap: str, topics: Topics, claims: int, timeout: float = 180
) -> Outputs:
    """Until every claim has its own decision (corrections come on top)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        out = await read_outputs(bootstrap, topics)
        decided = [e for e in audit_events(out) if e.trigger_event_id is None]
        if len(decided) >= claims:
            return out
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(decided)} of {claims} claims decided")
        await asyncio.sleep(0.5)


async def fractions_on_record(bootstrap: str, topics: Topics, patient: str) -> Counter[str]:
    settings = Settings(bootstrap_servers=bootstrap, topics=topics)
    state = await read_courses(connection(bootstrap), settings, patient)
    assert state is not None, f"no course state for {patient}"
    assert not state.closed
    return Counter(s.code for c in state.claims for s in c.services for _ in range(int(s.units)))


async def test_a_course_out_of_order_is_corrected_and_a_new_version_replaces_the_old(
    kafka_bootstrap: str, topics: Topics
) -> None:
    plan, dosi, fx1, fx2, fx3 = course_claims("PAT-OOO")
    # Delivery arrives first: no plan on record, so it goes to review (never denied).
    async with InProcessWorker(kafka_bootstrap, topics, courses=True, batch_max_records=50):
        await produce(kafka_bootstrap, topics.submitted, items([fx1]))
        first = await wait_for_claims(kafka_bootstrap, topics, 1)
        [early] = audit_events(first)
        assert early.claim_id == fx1.claim_id and "RO-CC2" in early.rule_ids
        assert early.source.topic == topics.by_patient
        await produce(kafka_bootstrap, topics.submitted, items([plan, dosi, fx2, fx3]))
        out = await wait_for_claims(kafka_bootstrap, topics, 5)
        # A later version of fx2 with one fraction fewer replaces its contribution.
        fewer = fx2.model_copy(update={"claim_version": 2, "service_lines": fx2.service_lines[1:]})
        await produce(kafka_bootstrap, topics.submitted, items([fewer]))
        out = await wait_for_claims(kafka_bootstrap, topics, 6)

    events = audit_events(out)
    corrections = [e for e in events if ReasonCode.COURSE_CORRECTION in e.reasons]
    assert fx1.claim_id in {e.claim_id for e in corrections}
    # The submitted claims are keyed by claim id, so they reach the by-patient partition in
    # whatever order their submitted partitions are repartitioned: planning (77263) or
    # dosimetry (77295), whichever comes first, puts a plan on record.
    planning = {
        e.event_id: e.claim_id
        for e in events
        if e.claim_id in (plan.claim_id, dosi.claim_id) and not e.trigger_event_id
    }
    fixes = [e for e in corrections if e.claim_id == fx1.claim_id]
    bodies = [
        ReviewRequest.model_validate_json(r.value)
        for r in out.review
        if r.key == fx1.claim_id.encode() and b"course_change" in r.value
    ]
    assert len(bodies) == len(fixes)
    cleared = [
        (e, b)
        for e, b in zip(fixes, bodies, strict=True)
        if b.course_change is not None
        and "RO-CC2" in {f.rule_id for f in b.course_change.before}
        and "RO-CC2" not in {f.rule_id for f in b.findings}
    ]
    assert cleared, "no correction cleared the delivery's 'no plan on record' finding"
    event, body = cleared[0]
    assert event.trigger_event_id in planning
    assert body.course_change is not None
    assert body.course_change.trigger_claim_id == planning[event.trigger_event_id]
    # Each claim decided once; every event in the audit chain, corrections included.
    decided = Counter((e.claim_id, e.claim_version) for e in events if not e.trigger_event_id)
    assert set(decided.values()) == {1} and len(decided) == 6
    await assert_chain_intact(connection(kafka_bootstrap), topics, len(events))
    on_record = await fractions_on_record(kafka_bootstrap, topics, "PAT-OOO")
    assert on_record["77412"] == 9  # 4 + 3 (version 2) + 2: the first version's four gone
    assert on_record["77427"] == 2


async def test_course_state_survives_kill_and_rebalance_exactly_once(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    patients = [f"PAT-{n:03d}" for n in range(24)]
    claims = [c for n, p in enumerate(patients) for c in course_claims(p, n % 5)]
    # Interleaved as platforms send them: first claims of every course, then the second...
    ordered = [c for k in range(5) for c in claims[k::5]]
    env = {**SMALL_BATCHES, **COURSES, "ONCOSCRUB_BATCH_MAX_RECORDS": "5"}
    first = WorkerProcess(kafka_bootstrap, topics, "first", tmp_path, env)
    try:
        await produce(kafka_bootstrap, topics.submitted, items(ordered[:60]))
        async with asyncio.timeout(120):
            while len(audit_events(await read_outputs(kafka_bootstrap, topics))) < 20:
                await asyncio.sleep(0.3)
        first.kill()  # kill -9 with transactions open
        second = WorkerProcess(kafka_bootstrap, topics, "second", tmp_path, env)
        third = WorkerProcess(kafka_bootstrap, topics, "third", tmp_path, env)
        await produce(kafka_bootstrap, topics.submitted, items(ordered[60:]))
        out = await wait_for_claims(kafka_bootstrap, topics, len(claims), timeout=300)
        assert second.terminate() == 0  # a rebalance: third takes its partitions
        assert third.terminate() == 0
    finally:
        if first.alive():
            first.kill()

    events = audit_events(out)
    decided = Counter(e.claim_id for e in events if not e.trigger_event_id)
    assert set(decided) == {c.claim_id for c in claims}
    assert set(decided.values()) == {1}, "a claim decided twice"
    await assert_chain_intact(connection(kafka_bootstrap), topics, len(events))
    for p in patients:
        on_record = await fractions_on_record(kafka_bootstrap, topics, p)
        assert on_record["77412"] == 10, p  # no fraction counted twice, none lost
        assert on_record["77427"] == 2, p


def shifted(c: SubmittedClaim, by: timedelta, patient: str, prefix: str) -> SubmittedClaim:
    """The claim moved by whole weeks (weekdays kept), under another patient and claim id."""
    lines = tuple(
        line.model_copy(update={"date_of_service": line.date_of_service + by})
        for line in c.service_lines
    )
    return c.model_copy(
        update={
            "claim_id": f"{prefix}-{c.claim_id}",
            "patient_ref": patient,
            "statement_from": c.statement_from + by,
            "statement_to": c.statement_to + by,
            "service_lines": lines,
        }
    )


def recent(claims: list[SubmittedClaim], patient: str, prefix: str) -> list[SubmittedClaim]:
    """The scenario's claims as if its last service were about three weeks ago: the worker
    decides on today's date, and a course settled a year ago is compacted."""
    last = max(line.date_of_service for c in claims for line in c.service_lines)
    weeks = (datetime.now(UTC).date() - last).days // 7 - 3
    return [shifted(c, timedelta(weeks=weeks), patient, prefix) for c in claims]


def _verdict(rule_id: str) -> bool:
    # RO-CC16 only informs (which in-claim findings a shared course supersedes) and, being
    # informational, never causes a correction: whether a claim last heard it depends on
    # the order its course's claims arrived in. Every other course finding is compared.
    return rule_id.startswith("RO-CC") and rule_id != "RO-CC16"


def course_findings_last_told(out: Outputs) -> dict[str, tuple[str, ...]]:
    """Each claim's RO-CC findings as the worker last told them: its decision, then every
    correction for it, in audit-chain order (a patient's records share one partition)."""
    bodies = {hashlib.sha256(r.value).hexdigest(): r.value for r in out.decisions}
    told: dict[str, tuple[str, ...]] = {}
    for event in sorted(audit_events(out), key=lambda e: (e.source.partition, e.seq)):
        body = json.loads(bodies[event.output_sha256])
        told[event.claim_id or ""] = tuple(
            f["rule_id"] for f in body.get("findings", ()) if _verdict(f["rule_id"])
        )
    return told


@pytest.mark.parametrize("scenario", ["R1", "R6"])
async def test_the_spec_courses_in_order_and_out_of_order_end_as_the_pure_model_says(
    kafka_bootstrap: str, topics: Topics, scenario: str
) -> None:
    from tests.rules.test_course_model import final, r1, r6

    claims = r1() if scenario == "R1" else r6(18, 4)
    in_order = recent(claims, f"PAT-{scenario}-A", f"{scenario}A")
    reversed_ = list(reversed(recent(claims, f"PAT-{scenario}-B", f"{scenario}B")))
    async with InProcessWorker(kafka_bootstrap, topics, courses=True, batch_max_records=50):
        await produce(kafka_bootstrap, topics.submitted, items(in_order + reversed_))
        await wait_for_claims(kafka_bootstrap, topics, 2 * len(claims), timeout=300)
    # Read again with the worker stopped: the output topics are read side by side, each to
    # its end at its own moment, so a read while it ran could hold an audit event whose
    # decision's transaction had committed after its topic was read.
    told = course_findings_last_told(await read_outputs(kafka_bootstrap, topics))
    expected = {
        cid: tuple(r for r in rules if _verdict(r)) for cid, rules in final(run(in_order)).items()
    }
    for prefix in (f"{scenario}A", f"{scenario}B"):
        got = {cid.split("-", 1)[1]: f for cid, f in told.items() if cid.startswith(prefix + "-")}
        want = {cid.split("-", 1)[1]: f for cid, f in expected.items()}
        assert got == want, prefix
    # No fraction counted twice, none lost, whatever the order.
    for patient in (f"PAT-{scenario}-A", f"PAT-{scenario}-B"):
        on_record = await fractions_on_record(kafka_bootstrap, topics, patient)
        delivered = sum(
            1 for c in claims for line in c.service_lines if line.code in ("77386", "77412")
        )
        assert on_record["77386"] + on_record["77412"] == delivered
