"""A patient's MAR kept beside their 837 claims: joined when it came first, waited for and
released when it comes after, kept per date, replaced per claim version, expired by days."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from rules import assess
from rules.checks.mar import MAR_W1, without_mar
from schemas.claim import SubmittedClaim
from schemas.mar import MarState
from tests.ingest.conftest import KEY, sample
from tests.ingest.fhir_builder import mar_bundle
from tests.ingest.x12_builder import PEOPLE, interchange
from worker.ingest.fhir import FhirOptions, PatientMar, parse_mar_bundle
from worker.ingest.mar_state import (
    MarRecordError,
    add_mar,
    awaiting,
    expire,
    join_or_wait,
    mar_record,
    read_mar_record,
    wants_mar,
)
from worker.ingest.x12 import X12Options, parse_837

CHEMO = "13-nurse-visit-with-chemo.json"  # J1200 and J9045 on 2026-05-03, two MAR entries
DAY1 = date(2026, 5, 3)


def _shift(when: str, days: int) -> str:
    return (date.fromisoformat(when[:10]) + timedelta(days=days)).isoformat() + when[10:]


def two_days() -> dict[str, Any]:
    """The chemo visit given again the next day: lines and MAR entries on both days."""
    doc = sample(CHEMO)
    again = copy.deepcopy(doc)
    lines = [
        {
            **x,
            "line_number": x["line_number"] + 3,
            "date_of_service": _shift(x["date_of_service"], 1),
        }
        for x in again["service_lines"]
    ]
    visits = [{**e, "encounter_id": e["encounter_id"] + "-2", "start": _shift(e["start"], 1)}
              for e in again["encounters"]]  # fmt: skip
    given = [
        {**a, "admin_id": a["admin_id"] + "-2", "encounter_id": a["encounter_id"] + "-2",
         "start": _shift(a["start"], 1), "stop": _shift(a["stop"], 1)}
        for a in again["administrations"]
    ]  # fmt: skip
    doc["statement_to"] = _shift(doc["statement_to"], 1)
    doc["service_lines"] += lines
    doc["encounters"] += visits
    doc["administrations"] += given
    return doc


def from_837(doc: dict[str, Any]) -> SubmittedClaim:
    (read,) = parse_837(interchange([doc], "P"), X12Options(patient_key=KEY))
    assert read.claim is not None and read.claim.administrations == ()
    return read.claim


def mar_of(doc: dict[str, Any], on: date | None = None) -> PatientMar:
    """The doc's MAR as the worker gets it from a MAR Bundle; ``on``: that day's only."""
    if on is not None:
        doc = {
            **doc,
            "administrations": [a for a in doc["administrations"] if a["start"][:10] == str(on)],
        }
    (mar,) = parse_mar_bundle(mar_bundle(doc), FhirOptions(patient_key=KEY))
    return mar


def wait(claim: SubmittedClaim, state: MarState | None, event: str = "claims:0:7") -> MarState:
    joined = join_or_wait(claim, state)
    assert joined.waited
    raw = claim.model_dump_json().encode()
    return awaiting(joined.state, claim.patient_ref, raw, claim, event, DAY1)


def test_the_mar_that_came_first_is_joined_and_the_claim_decides_as_with_its_mar() -> None:
    doc = sample(CHEMO)
    claim = from_837(doc)
    assert wants_mar(claim)
    first = add_mar(None, mar_of(doc))
    assert first.claims == () and first.state.awaiting == ()
    joined = join_or_wait(claim, first.state)
    assert not joined.waited and joined.state == first.state
    original = SubmittedClaim.model_validate(doc)
    assert joined.claim.administrations == original.administrations
    assert assess(joined.claim).computed_lines == assess(original).computed_lines
    assert without_mar(assess(joined.claim), joined.claim) == assess(joined.claim)


def test_a_claim_decided_before_its_mar_waits_and_is_released_joined_when_it_comes() -> None:
    doc = sample(CHEMO)
    claim = from_837(doc)
    joined = join_or_wait(claim, None)
    assert joined.waited and joined.claim == claim and joined.state is None
    decided = without_mar(assess(joined.claim), joined.claim)
    (note,) = [f for f in decided.findings if f.rule_id == MAR_W1.id]
    assert "No administration on record for 2026-05-03" in note.message
    state = wait(claim, None)
    (kept,) = state.awaiting
    assert (kept.claim_id, kept.event_id, kept.decided_at) == (claim.claim_id, "claims:0:7", DAY1)

    released = add_mar(state, mar_of(doc))
    ((entry, corrected),) = released.claims
    assert entry == kept and released.state.awaiting == ()
    original = SubmittedClaim.model_validate(doc)
    assert corrected.administrations == original.administrations
    assert assess(corrected).computed_lines == assess(original).computed_lines
    assert assess(corrected).computed_lines != assess(claim).computed_lines
    # The correction is decided with its MAR: no MAR-W1 on it.
    assert without_mar(assess(corrected), corrected) == assess(corrected)


def test_a_mar_for_other_dates_releases_nothing() -> None:
    doc = sample(CHEMO)
    claim = from_837(doc)
    state = wait(claim, None)
    later = two_days()
    other = add_mar(state, mar_of(later, on=DAY1 + timedelta(days=1)))
    assert other.claims == ()
    assert other.state.awaiting == state.awaiting
    assert len(other.state.entries.administrations) == 2
    assert add_mar(other.state, mar_of(doc)).claims[0][0] == state.awaiting[0]


def test_a_claim_over_two_days_joins_what_there_is_and_waits_for_the_other_day() -> None:
    doc = two_days()
    claim = from_837(doc)
    state = add_mar(None, mar_of(doc, on=DAY1)).state
    joined = join_or_wait(claim, state)
    assert joined.waited
    assert {a.start.date() for a in joined.claim.administrations} == {DAY1}
    (note,) = [
        f
        for f in without_mar(assess(joined.claim), joined.claim).findings
        if f.rule_id == MAR_W1.id
    ]
    assert "for 2026-05-04:" in note.message and "2026-05-03" not in note.message
    assert note.line_numbers == (4, 5)
    state = awaiting(state, claim.patient_ref, claim.model_dump_json().encode(), claim, "e:1", DAY1)
    released = add_mar(state, mar_of(doc, on=DAY1 + timedelta(days=1)))
    ((_, corrected),) = released.claims
    assert len(corrected.administrations) == 4
    original = SubmittedClaim.model_validate(doc)
    assert assess(corrected).computed_lines == assess(original).computed_lines


def test_an_entry_sent_again_replaces_the_earlier_one() -> None:
    doc = sample(CHEMO)
    state = add_mar(None, mar_of(doc)).state
    fixed = copy.deepcopy(doc)
    fixed["administrations"][1]["stop"] = "2026-05-03T10:14:00-05:00"
    after = add_mar(state, mar_of(fixed)).state
    assert len(after.entries.administrations) == 2
    carboplatin = [a for a in after.entries.administrations if a.admin_id == "A32-2"]
    assert [a.stop for a in carboplatin] == [mar_of(fixed).administrations[1].stop]


def test_a_new_claim_version_replaces_its_awaiting_entry() -> None:
    doc = sample(CHEMO)
    v1 = from_837(doc)
    v2 = v1.model_copy(update={"claim_version": 2})
    state = wait(v2, wait(v1, None, "claims:0:1"), "claims:0:2")
    (kept,) = state.awaiting
    assert (kept.claim_version, kept.event_id) == (2, "claims:0:2")
    # An older version arriving late leaves the newer one waiting.
    assert wait(v1, state, "claims:0:3") == state
    # A newer version decided with its MAR takes its claim off the waiting list.
    with_mar = add_mar(MarState(patient_ref=v1.patient_ref), mar_of(doc)).state
    v3 = v1.model_copy(update={"claim_version": 3})
    joined = join_or_wait(v3, with_mar.model_copy(update={"awaiting": state.awaiting}))
    assert not joined.waited and joined.state is not None and joined.state.awaiting == ()


def test_a_claim_that_brings_its_mar_or_bills_no_drug_is_decided_as_it_came() -> None:
    state = wait(from_837(sample(CHEMO)), None)
    own = SubmittedClaim.model_validate(sample(CHEMO)).model_copy(
        update={"patient_ref": state.patient_ref}
    )
    assert not wants_mar(own)
    joined = join_or_wait(own, state)
    assert not joined.waited and joined.claim == own
    radiation = SubmittedClaim.model_validate(sample("11-radiation-imrt-plan.json"))
    assert not wants_mar(radiation.model_copy(update={"administrations": ()}))


def test_expire_drops_entries_and_waiting_claims_past_the_days_kept() -> None:
    doc = two_days()
    claim = from_837(sample(CHEMO))
    state = add_mar(wait(claim, None), mar_of(doc, on=DAY1 + timedelta(days=1))).state
    assert expire(state, DAY1 + timedelta(days=1), 30) is state
    later = expire(state, DAY1 + timedelta(days=3), 2)
    assert later is not None
    assert later.awaiting == ()  # decided on DAY1
    assert {a.start.date() for a in later.entries.administrations} == {DAY1 + timedelta(days=1)}
    assert {e.encounter_id for e in later.entries.encounters} == {"E32-2"}
    assert expire(state, DAY1 + timedelta(days=40), 30) is None


def test_records_and_states_round_trip_as_json() -> None:
    doc = two_days()
    mar = mar_of(doc)
    assert read_mar_record(mar_record(mar)) == mar
    state = wait(
        from_837(sample(CHEMO)), add_mar(None, mar_of(doc, on=DAY1 + timedelta(days=1))).state
    )
    assert MarState.model_validate_json(state.model_dump_json()) == state


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (b"not json", "mar"),
        (b'{"kind": "mar", "patient_ref": "PSN-1", "administrations": [{"admin_id": "A"}]}',
         "mar.administrations[0]."),
        (b'{"kind": "claim", "patient_ref": "PSN-1"}', "mar.kind"),
    ],
)  # fmt: skip
def test_a_bad_mar_record_is_refused_with_its_location(value: bytes, where: str) -> None:
    with pytest.raises(MarRecordError) as err:
        read_mar_record(value)
    assert err.value.reasons and err.value.reasons[0].location.startswith(where)
    assert "PSN-1" not in str(err.value)


def test_another_patients_record_is_refused() -> None:
    doc = sample(CHEMO)
    state = add_mar(None, mar_of(doc)).state
    (other,) = parse_mar_bundle(mar_bundle(doc, PEOPLE[1]), FhirOptions(patient_key=KEY))
    with pytest.raises(ValueError, match="patient"):
        add_mar(state, other)
    claim = from_837(doc)
    with pytest.raises(ValueError, match="patient"):
        join_or_wait(claim, MarState(patient_ref=other.patient_ref))
