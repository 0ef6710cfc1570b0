"""No name, member id, birth date or address of the test data reaches an exception
message, a located reason or a log line, however the interchange is broken."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from x12sdk.generate import generate_837i

from tests.ingest.conftest import sample
from tests.ingest.x12_builder import DEPENDENT, PEOPLE, interchange, phi_strings
from worker.ingest.x12 import X12Options, parse_837
from worker.ingest.x12_envelope import X12EnvelopeError


def _generated_phi(text: str) -> list[str]:
    out = []
    for seg in text.split("~"):
        e = seg.strip().split("*")
        if e[0] == "NM1" and e[1] in ("IL", "QC"):
            out += [x for x in (e[3], e[4], e[9] if len(e) > 9 else "") if x]
        elif e[0] in ("DMG", "N3"):
            out.append(e[2] if e[0] == "DMG" else e[1])
    return out


def _mutations(text: str) -> Iterator[str]:
    segs = text.split("~\n")
    for i, seg in enumerate(segs[:-1]):
        elements = seg.split("*")
        yield "~\n".join(segs[:i] + segs[i + 1 :])  # dropped
        yield "~\n".join([*segs[:i], seg, seg, *segs[i + 1 :]])  # repeated
        identifying = elements[0] in ("NM1", "N3", "N4", "DMG", "REF")
        for j in range(1, len(elements)):
            blanked = [*elements[:j], "", *elements[j + 1 :]]
            yield "~\n".join([*segs[:i], "*".join(blanked), *segs[i + 1 :]])
            if identifying:  # too long for its element: validators that echo values fire
                longer = [*elements[:j], elements[j] + "Q" * 90, *elements[j + 1 :]]
                yield "~\n".join([*segs[:i], "*".join(longer), *segs[i + 1 :]])
        if identifying and len(elements) > 3:  # a stray terminator inside a name
            cut = seg.replace(elements[3], elements[3][:2] + "~" + elements[3][2:], 1)
            yield "~\n".join([*segs[:i], cut, *segs[i + 1 :]])


def _texts(options: X12Options, text: str) -> Iterator[str]:
    try:
        reads = parse_837(text, options)
    except X12EnvelopeError as exc:
        yield str(exc)
        yield repr(exc)
        yield from (f"{r.location} {r.message}" for r in exc.reasons)
        return
    for read in reads:
        yield from (f"{r.location} {r.message}" for r in read.reasons)
        yield read.location


def _scan(found: list[str], phi: list[str]) -> list[tuple[str, str]]:
    hits = []
    for text in found:
        for value in phi:
            if re.search(re.escape(value), text, re.IGNORECASE):
                hits.append((value, text))
    return hits


@pytest.mark.parametrize("kind", ["P", "I"])
def test_no_identifier_in_any_message_or_log_line(
    kind: str, options: X12Options, caplog: pytest.LogCaptureFixture
) -> None:
    docs = [sample("13-nurse-visit-with-chemo.json"), sample("02-office-visit.json")]
    if kind == "I":
        docs = [sample("10-health-net-z51-resequenced.json"), sample("11-radiation-imrt-plan.json")]
    text = interchange(docs, kind, dependents=(1,))
    phi = [value for value in phi_strings() if value in text]
    # two subscribers and a dependent: names, member ids, birth dates, streets
    assert {DEPENDENT.first, DEPENDENT.born, PEOPLE[1].member_id, PEOPLE[0].street} <= set(phi)
    found: list[str] = []
    caplog.set_level(logging.DEBUG)
    variants = 0
    rejected = 0
    for variant in _mutations(text):
        variants += 1
        messages = list(_texts(options, variant))
        rejected += bool(messages)
        found += messages
    found += [r.getMessage() for r in caplog.records]
    found += [caplog.text]
    assert variants > 250 and rejected > 150  # the mutations do break things
    assert _scan(found, phi) == []


def test_no_identifier_from_x12sdk_generated_claims(
    options: X12Options, caplog: pytest.LogCaptureFixture
) -> None:
    text = generate_837i(seed=5, claims=2, dependent_rate=0.5).replace("HI*BK:", "HI*ABK:")
    text = text.replace("~", "~\n")
    phi = [v for v in _generated_phi(text) if len(v) >= 4]
    assert len(phi) > 10
    caplog.set_level(logging.DEBUG)
    found = [m for v in _mutations(text) for m in _texts(options, v)]
    found += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert _scan(found, phi) == []
