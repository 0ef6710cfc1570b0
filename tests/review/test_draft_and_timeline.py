"""The coder's draft (corrections, edits, the resubmitted version) and the MAR timeline's
geometry, on a claim decided by the engine."""

from __future__ import annotations

import json

import pytest

from review.draft import EditError, apply_correction, parse_edit, resubmission, start
from review.timeline import layout
from schemas.claim import SubmittedClaim
from schemas.decision import ReviewRequest
from tests.review.helpers import correctable_claim, decide


def _review() -> ReviewRequest:
    [(kind, value)] = decide([correctable_claim()])
    assert kind == "review"
    return ReviewRequest.model_validate_json(value)


def test_an_accepted_correction_and_an_edit_make_a_valid_next_version() -> None:
    review = _review()
    assert review.claim is not None
    claim = review.claim
    [removal] = review.corrections
    draft = apply_correction(start(claim), removal)
    assert [line.line_number for line in draft.service_lines] == [
        line.line_number
        for line in claim.service_lines
        if line.line_number not in removal.line_numbers
    ]
    form = {
        "line_number": [str(line.line_number) for line in draft.service_lines],
        "code": [line.code for line in draft.service_lines],
        "modifiers": [" ".join(line.modifiers) for line in draft.service_lines],
        "units": [str(line.units) for line in draft.service_lines],
        "date_of_service": [str(line.date_of_service) for line in draft.service_lines],
        "diagnoses": ["z51.11, C50.911"],
    }
    lines, diagnoses = parse_edit(draft, form)
    assert diagnoses == ("Z51.11", "C50.911")
    assert lines == draft.service_lines  # revenue codes and pointers kept
    nxt = resubmission(claim, draft.__class__(lines, diagnoses))
    assert nxt.claim_version == claim.claim_version + 1
    assert nxt.administrations == claim.administrations and nxt.claim_id == claim.claim_id
    assert SubmittedClaim.model_validate_json(nxt.model_dump_json()) == nxt


def test_a_bad_edit_is_refused_with_where_never_what() -> None:
    review = _review()
    assert review.claim is not None
    draft = start(review.claim)
    form = {
        "line_number": ["1", ""],
        "code": ["96413", "SECRET-CONTENT"],
        "modifiers": ["", "XYZ"],
        "units": ["1", "-4"],
        "date_of_service": ["2026-05-03", "yesterday"],
    }
    with pytest.raises(EditError) as caught:
        parse_edit(draft, form)
    problems = caught.value.problems
    assert any(p.startswith("line 2 code") for p in problems)
    assert any(p.startswith("line 2 units") for p in problems)
    assert any(p.startswith("line 2 date_of_service") for p in problems)
    assert not any("SECRET" in p or "yesterday" in p or "XYZ" in p for p in problems)
    with pytest.raises(EditError) as no_dx:
        resubmission(review.claim, draft.__class__(draft.service_lines, ()))
    assert any(p.startswith("diagnoses") for p in no_dx.value.problems)


def test_the_timeline_has_a_lane_per_site_bars_ticks_holds_and_the_derived_codes() -> None:
    claim = correctable_claim()
    first = claim["administrations"][0]
    port = dict(claim["administrations"][-1])
    port.update(
        admin_id="A-HOLD", access_site_id="piv-2", start="2026-05-03T12:00:00-05:00",
        stop="2026-05-03T13:30:00-05:00", documented_technique="INFUSION",
        holds=[{"start": "2026-05-03T12:30:00-05:00", "stop": "2026-05-03T12:45:00-05:00"}],
        drug={"name": "normal saline", "hcpcs": "J7030", "dose": "1000", "dose_unit": "mL"},
    )  # fmt: skip
    claim["administrations"].append(port)
    [(_, value)] = decide([claim])
    review = ReviewRequest.model_validate_json(value)
    picture = layout(review.claim, review.computed_lines)
    assert review.claim is not None
    sites = {a.access_site_id or f"{a.route.value} (no line)" for a in review.claim.administrations}
    assert {lane.name for lane in picture.lanes} == sites and len(sites) >= 2
    marks = {m.admin_id: m for m in picture.marks}
    assert set(marks) == {a.admin_id for a in review.claim.administrations}
    for line in review.computed_lines:
        for admin_id in line.admin_ids:
            assert line.code in " ".join(marks[admin_id].codes)
    assert marks["A-HOLD"].kind == "bar" and len(marks["A-HOLD"].holds) == 1
    hold = marks["A-HOLD"].holds[0]
    bar = marks["A-HOLD"]
    # 15 of the 90 minutes, a third of the way in.
    assert hold.width == pytest.approx(bar.width / 6, rel=0.01)
    assert hold.x == pytest.approx(bar.x + bar.width / 3, rel=0.01)
    push = json.dumps(first)
    assert marks[first["admin_id"]].kind == ("tick" if '"PUSH"' in push else "bar")
    assert picture.ticks and all(picture.label_width <= t.x <= picture.width for t in picture.ticks)
