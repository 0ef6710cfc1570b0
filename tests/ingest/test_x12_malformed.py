"""Bad 837s: a failing envelope or syntax check rejects the interchange whole, with the
failing location and reason; a bad claim in a good interchange fails alone."""

from __future__ import annotations

import pytest

from tests.ingest.conftest import sample
from tests.ingest.x12_builder import interchange
from worker.ingest.x12 import X12Options, parse_837
from worker.ingest.x12_envelope import X12EnvelopeError

DOCS = [sample("13-nurse-visit-with-chemo.json"), sample("02-office-visit.json")]


def _good() -> str:
    return interchange(DOCS, "P")


def _reasons(text: str | bytes, options: X12Options) -> list[tuple[str, str]]:
    with pytest.raises(X12EnvelopeError) as caught:
        parse_837(text, options)
    return [(r.location, r.message) for r in caught.value.reasons]


def _segments(text: str) -> list[str]:
    return text.split("~\n")


def _with(text: str, index: int, segment: str) -> str:
    parts = _segments(text)
    parts[index] = segment
    return "~\n".join(parts)


def _find(text: str, prefix: str) -> int:
    return next(i for i, s in enumerate(_segments(text)) if s.startswith(prefix))


ENVELOPE_CASES = [
    ("SE01 off by one", "SE*", lambda s: "SE*" + str(int(s.split("*")[1]) + 1) + "*0001",
     "(SE) SE01", "SE01 does not equal the number of segments"),
    ("SE02 differs", "SE*", lambda s: s.rsplit("*", 1)[0] + "*0002", "(SE) SE02",
     "SE02 does not match ST02"),
    ("GE01 counts two", "GE*", lambda s: "GE*2*101", "(GE) GE01",
     "GE01 does not equal the number of transaction sets"),
    ("GE02 differs", "GE*", lambda s: "GE*1*102", "(GE) GE02", "GE02 does not match GS06"),
    ("IEA01 counts two", "IEA*", lambda s: "IEA*2*000000101", "(IEA) IEA01",
     "IEA01 does not equal the number of functional groups"),
    ("IEA02 differs", "IEA*", lambda s: "IEA*1*000000102", "(IEA) IEA02",
     "IEA02 does not match ISA13"),
    ("GS08 is a 4010 guide", "GS*", lambda s: s.replace("005010X222A1", "004010X098A1"),
     "(GS) GS08", "wrong version"),
    ("ST01 is an 835", "ST*", lambda s: s.replace("ST*837", "ST*835"), "(ST) ST01",
     "ST01 is not 837"),
    ("ST03 differs from GS08", "ST*", lambda s: s.replace("005010X222A1", "005010X222A2"),
     "(ST) ST03", "ST03 does not match GS08"),
    ("an unknown segment", "LX*1", lambda s: "ZZQ*1", "segment ", "unknown segment"),
    ("an 835 segment in an 837", "LX*1", lambda s: "CLP*1*1*1", "segment ", "unknown segment"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "prefix", "change", "where", "why"),
    ENVELOPE_CASES,
    ids=[c[0] for c in ENVELOPE_CASES],
)
def test_an_envelope_or_syntax_error_rejects_the_interchange_with_its_location(
    label: str, prefix: str, change: object, where: str, why: str, options: X12Options
) -> None:
    text = _good()
    i = _find(text, prefix)
    bad = _with(text, i, change(_segments(text)[i]))  # type: ignore[operator]
    reasons = _reasons(bad, options)
    assert any(
        loc.startswith(f"segment {i + 1}") and where in loc and why in msg for loc, msg in reasons
    ), reasons


def test_a_wrong_interchange_version_is_located_at_isa12(options: X12Options) -> None:
    bad = _good().replace("*00501*", "*00401*", 1)
    assert ("segment 1 (ISA) ISA12", "wrong version: the interchange control version is not "
            "00501 (ASC X12 5010)") in _reasons(bad, options)  # fmt: skip


def test_a_truncated_interchange_is_rejected_not_read_as_no_claims(options: X12Options) -> None:
    text = _good()
    cut = "~\n".join(_segments(text)[:30]) + "~\n"
    reasons = _reasons(cut, options)
    messages = " ".join(m for _, m in reasons)
    assert "SE expected" in messages and "GE expected" in messages and "IEA expected" in messages


def test_data_after_iea_and_bytes_that_are_not_text_are_rejected(options: X12Options) -> None:
    text = _good()
    n = len(_segments(text))
    assert (f"segment {n} (NM1)", "data after IEA") in _reasons(text + "NM1*XX~", options)
    assert _reasons(b"ISA" + b"\xff" * 200, options)[0][1].startswith("the bytes are not UTF-8")
    assert "106-character ISA" in _reasons("ISA*00*short~", options)[0][1]
    assert "16 elements" in _reasons("ISA|" + "x" * 120, options)[0][1]


def test_a_claim_outside_the_hl_hierarchy_is_a_syntax_error(options: X12Options) -> None:
    text = _good()
    i = _find(text, "HL*2")
    bad = _with(text, i, "HL*2*1*99*0")
    (reason,) = _reasons(bad, options)
    assert reason[0] == f"segment {i + 1} (HL)" and "HL03" in reason[1]


def test_a_bad_claim_goes_alone_and_the_others_are_read(options: X12Options) -> None:
    text = _good()
    # the first claim's first line has no charge (SV102 is required)
    i = _find(text, "SV1*HC:J1200")
    parts = _segments(text)[i].split("*")
    parts[2] = ""
    bad = _with(text, i, "*".join(parts))
    first, second = parse_837(bad, options)
    assert first.claim is None and second.claim is not None and second.reasons == ()
    assert first.claim_id is None  # x12sdk rejected the claim before it was mapped
    locations = [r.location for r in first.reasons]
    assert any("ST 0001 claim 1" in loc and "2400 SV102" in loc for loc in locations), locations


@pytest.mark.parametrize(
    ("old", "new", "where", "why"),
    [
        ("HI*ABK:Z5111", "HI*BK:Z5111", "loop 2300 HI01-1", "ICD-9-CM qualifier"),
        ("HI*ABK:Z5111", "HI*ABK:5111", "loop 2300 HI", "string_pattern_mismatch"),
        ("CLM*CLM-00000032", "CLM*CLM 32", "loop 2300 CLM01", "not an identifier"),
        ("SV1*HC:J1200", "SV1*ER:J1200", "SV101-1", "not a HCPCS/CPT code"),
        ("*UN*1***1~", "*MJ*1***1~", "SV103", "units are not UN"),
        ("DTP*472*D8*20260503", "DTP*472*RD8*20260503-20260504", "DTP*472", "not one day"),
        ("*UN*12***1~", "*UN*12*22**1~", "SV105", "place of service differs"),
        ("11:B:1", "11:A:1", "CLM05-2", "qualifier is not B"),
        ("11:B:1", "11:B", "CLM05-3", "frequency code is not one digit"),
    ],
)
def test_claim_level_problems_are_located_in_the_837(
    old: str, new: str, where: str, why: str, options: X12Options
) -> None:
    text = interchange(DOCS[:1], "P")
    assert old in text
    (read,) = parse_837(text.replace(old, new, 1), options)
    assert read.claim is None
    assert any(where in r.location and why in r.message for r in read.reasons), read.reasons
