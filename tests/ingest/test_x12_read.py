"""837I/837P in: interchanges of oncology claims read onto v1 claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from schemas.claim import ClaimType, Setting, SubmittedClaim
from schemas.examples import example_claim
from tests.ingest.conftest import KEY, sample
from tests.ingest.x12_builder import DEPENDENT, PEOPLE, as_837_claim, interchange
from worker.ingest.patient_ref import Dependent, patient_reference
from worker.ingest.x12 import X12Options, parse_837


def test_an_837p_of_many_claims_reads_each_claim_as_submitted(options: X12Options) -> None:
    docs = [example_claim(n) for n in range(40)]
    docs = [d for d in docs if d["claim_type"] == "professional" and d["service_lines"]]
    claims = parse_837(interchange(docs, "P"), options)
    assert len(claims) == len(docs) > 5
    for doc, read in zip(docs, claims, strict=True):
        assert read.reasons == ()
        assert read.claim is not None
        want = SubmittedClaim.model_validate(
            {**as_837_claim(doc), "patient_ref": read.claim.patient_ref}
        )
        assert read.claim == want
        assert read.claim.administrations == ()  # an 837 carries no MAR


def test_an_837i_reads_bill_type_revenue_codes_and_statement_dates(options: X12Options) -> None:
    doc = sample("10-health-net-z51-resequenced.json")
    (read,) = parse_837(interchange([doc], "I"), options)
    claim = read.claim
    assert claim is not None, read.reasons
    assert claim.claim_type is ClaimType.INSTITUTIONAL
    assert claim.bill_type == "0131"
    assert claim.place_of_service == "22"
    assert claim.setting is Setting.HOSPITAL_OUTPATIENT
    assert claim.payer.payer_id == "HEALTHNET-CA"  # 2010BB NM109 68069 through the aliases
    assert claim.diagnoses == ("C61", "Z51.11")
    assert claim.statement_from == claim.statement_to == date(2026, 4, 16)
    assert [(x.code, x.units, x.revenue_code) for x in claim.service_lines] == [
        ("J2405", Decimal("8"), "0636"),
        ("J1200", Decimal("1"), "0636"),
        ("J9267", Decimal("300"), "0636"),
    ]
    assert read.claim_id == "CLM-00000015"
    assert read.frequency == "1"


def test_the_patient_reference_is_the_hmac_of_payer_and_member_id(options: X12Options) -> None:
    docs = [sample("13-nurse-visit-with-chemo.json"), sample("02-office-visit.json")]
    first, second = parse_837(interchange(docs, "P", dependents=(1,)), options)
    assert first.claim is not None and second.claim is not None
    subscriber = PEOPLE[0]
    assert first.claim.patient_ref == patient_reference(KEY, "01112", subscriber.member_id)
    # the second claim is for a dependent under the second subscriber's member id
    child = Dependent(date(2007, 5, 11), DEPENDENT.first)
    assert second.claim.patient_ref == patient_reference(KEY, "01112", PEOPLE[1].member_id, child)
    assert second.claim.patient_ref != patient_reference(KEY, "01112", PEOPLE[1].member_id)
    other_key = X12Options(patient_key=b"another key, also 32 bytes or more")
    (again,) = parse_837(interchange(docs[:1], "P"), other_key)
    assert again.claim is not None and again.claim.patient_ref != first.claim.patient_ref


def test_a_radiation_centre_on_an_837p_is_a_freestanding_setting(options: X12Options) -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    text = interchange([doc], "P").replace("PRV*BI*PXC*207RX0202X", "PRV*BI*PXC*261QX0203X")
    (read,) = parse_837(text, options)
    assert read.claim is not None and read.claim.setting is Setting.FREESTANDING_RADIATION


def test_other_delimiters_and_no_line_breaks_read_the_same(options: X12Options) -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    text = interchange([doc], "P")
    other = (
        text.replace("\n", "").replace("*", "|").replace("~", "!\r\n").replace(":", ">")
    ).replace("|^|", "|`|")
    (a,) = parse_837(text, options)
    (b,) = parse_837(other.encode(), options)
    assert a.claim is not None and a.claim == b.claim


def test_the_remembered_segment_layouts_are_x12sdks_own() -> None:
    from x12sdk.models import X12Delimiters
    from x12sdk.parsing import X12Parser
    from x12sdk.v5010.segments import SEGMENT_LOOKUP

    from worker.ingest.x12 import _Parser

    for delimiters in (
        X12Delimiters(),
        X12Delimiters(component_separator=">", repetition_separator="`"),
    ):
        plain = X12Parser(None, {}, SEGMENT_LOOKUP, delimiters)  # type: ignore[arg-type]
        cached = _Parser(None, {}, SEGMENT_LOOKUP, delimiters)  # type: ignore[arg-type]
        for name in SEGMENT_LOOKUP:
            assert cached._get_segment_field_names(name) == plain._get_segment_field_names(name)
            assert cached._get_multivalue_fields(name) == plain._get_multivalue_fields(name)


def test_several_groups_and_transaction_sets_are_all_read(options: X12Options) -> None:
    def body(text: str, control: str) -> list[str]:
        segs = text.split("~\n")
        st = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
        se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
        out = segs[st : se + 1]
        out[0] = out[0].replace("*0001*", f"*{control}*")
        out[-1] = out[-1].replace("*0001", f"*{control}")
        return out

    a = interchange([sample("13-nurse-visit-with-chemo.json")], "P")
    b = interchange([sample("02-office-visit.json"), sample("03-injection-only.json")], "P")
    i = interchange([sample("10-health-net-z51-resequenced.json")], "I")
    segs = a.split("~\n")
    gs_p, gs_i = segs[1], i.split("~\n")[1].replace("*101*", "*102*")
    merged = [
        segs[0],
        gs_p,
        *body(a, "0001"),
        *body(b, "0002"),
        "GE*2*101",
        gs_i,
        *body(i, "0001"),
        "GE*1*102",
        "IEA*2*000000101",
    ]
    reads = parse_837("~\n".join(merged) + "~\n", options)
    assert [r.claim_id for r in reads] == [
        "CLM-00000032",
        "CLM-00000230",
        "CLM-00000014",
        "CLM-00000015",
    ]
    assert [r.source.index for r in reads] == [1, 2, 3, 4]
    assert reads[2].location.startswith("ST 0002 claim 2")
    assert reads[3].claim is not None
    assert reads[3].claim.claim_type is ClaimType.INSTITUTIONAL
