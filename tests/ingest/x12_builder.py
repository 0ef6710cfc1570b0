"""Synthetic 837I/837P interchanges written from v1 claims, for tests and benchmarks.

No real patient: the people below are invented, with names and member ids chosen to be
unmistakable, so a scan of messages and logs for them means something. x12sdk's own
generator (``x12sdk.generate``) writes general-medicine claims with ICD-9 qualifiers and
no place for our codes, diagnoses or dates; it is used where the structure is the point
(tests/ingest/test_x12_generated.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PAYER_IDS = {"MEDICARE": ("01112", "MB"), "HEALTHNET-CA": ("68069", "MC")}


@dataclass(frozen=True)
class Person:
    last: str
    first: str
    born: str  # CCYYMMDD
    member_id: str
    street: str


PEOPLE = (
    Person("QUIXBURY", "ZEPHRINE", "19480317", "ZQX4471902A", "4417 WREN HOLLOW RD"),
    Person("VANTERPOOL", "ISADORA", "19530629", "VNT8820331B", "12 OSPREY BEND"),
    Person("MCGILLICUDDY", "BARNABY", "19390104", "MCG5519020C", "908 LARKSPUR CT"),
    Person("OKONKWO-BLYTHE", "TEMPERANCE", "19611122", "OKB3307714D", "77 QUARRY RIDGE"),
)
DEPENDENT = Person("QUIXBURY", "ODALYS", "20070511", "", "4417 WREN HOLLOW RD")


def phi_strings() -> list[str]:
    """Every identifying value the builder writes (names, member ids, birth dates, streets)."""
    out = []
    for p in (*PEOPLE, DEPENDENT):
        out += [p.last, p.first, p.born, p.street]
        if p.member_id:
            out.append(p.member_id)
    return out


def _code(dx: str) -> str:
    return dx.replace(".", "")


def _claim(doc: dict[str, Any], kind: str, dependent: bool) -> list[str]:
    professional = kind == "P"
    lines = doc["service_lines"]
    charges = [Decimal("100.00") + Decimal(i * 25) for i in range(len(lines))]
    frequency = "1"
    clm05 = (
        f"{doc['place_of_service']}:B:{frequency}"
        if professional
        else f"{doc['bill_type'][-3:-1]}:A:{frequency}"
    )
    out = [f"CLM*{doc['claim_id']}*{sum(charges)}***{clm05}*Y*A*Y*Y"]
    frm, to = doc["statement_from"].replace("-", ""), doc["statement_to"].replace("-", "")
    dx = [_code(d) for d in doc["diagnoses"]]
    if professional:
        out.append(
            "HI*" + "*".join(("ABK" if i == 0 else "ABF") + ":" + d for i, d in enumerate(dx))
        )
    else:
        out.append(f"DTP*434*RD8*{frm}-{to}")
        out.append("CL1*3**01")
        out.append(f"HI*ABK:{dx[0]}")
        if dx[1:]:
            out.append("HI*" + "*".join("ABF:" + d for d in dx[1:]))
    for i, line in enumerate(lines):
        proc = ":".join(["HC", line["code"], *line.get("modifiers", [])])
        out.append(f"LX*{line['line_number']}")
        units = line["units"]
        if professional:
            pointers = ":".join(str(p) for p in line.get("diagnosis_pointers") or [1])
            out.append(f"SV1*{proc}*{charges[i]}*UN*{units}***{pointers}")
        else:
            out.append(f"SV2*{line['revenue_code']}*{proc}*{charges[i]}*UN*{units}")
        out.append(f"DTP*472*D8*{line['date_of_service'].replace('-', '')}")
    return out


def interchange(
    docs: Sequence[dict[str, Any]],
    kind: str,
    *,
    people: Sequence[Person] = PEOPLE,
    dependents: Sequence[int] = (),
    control: int = 101,
) -> str:
    """One interchange, one transaction set holding every claim (each under its own
    subscriber; claims whose index is in ``dependents`` are for the subscriber's child)."""
    version = "005010X222A1" if kind == "P" else "005010X223A2"
    body = [
        f"ST*837*0001*{version}",
        "BHT*0019*00*BATCH101*20260601*0900*CH",
        "NM1*41*2*SYNTHETIC ONCOLOGY BILLING*****46*TGJ23",
        "PER*IC*BILLING DESK*TE*5555550100",
        "NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*CH001",
        "HL*1**20*1",
        "PRV*BI*PXC*207RX0202X",
        "NM1*85*2*SYNTHETIC CANCER CENTER*****XX*1234567893",
        "N3*100 TEST AVE",
        "N4*SPRINGFIELD*IL*627010000",
        "REF*EI*000000001",
    ]
    hl = 1
    for i, doc in enumerate(docs):
        p = people[i % len(people)]
        payer_id, filing = PAYER_IDS[doc["payer"]["payer_id"]]
        dependent = i in dependents
        hl += 1
        subscriber_hl = hl
        body += [
            f"HL*{hl}*1*22*{1 if dependent else 0}",
            f"SBR*P*{'' if dependent else '18'}*******{filing}",
            f"NM1*IL*1*{p.last}*{p.first}****MI*{p.member_id}",
            f"N3*{p.street}",
            "N4*SPRINGFIELD*IL*627010000",
            f"DMG*D8*{p.born}*F",
            f"NM1*PR*2*{doc['payer']['name'].upper()}*****PI*{payer_id}",
        ]
        if dependent:
            hl += 1
            d = DEPENDENT
            body += [
                f"HL*{hl}*{subscriber_hl}*23*0",
                "PAT*19",
                f"NM1*QC*1*{d.last}*{d.first}",
                f"N3*{d.street}",
                "N4*SPRINGFIELD*IL*627010000",
                f"DMG*D8*{d.born}*F",
            ]
        body += _claim(doc, kind, dependent)
    body.append(f"SE*{len(body) + 1}*0001")
    isa = (
        "ISA*00*          *00*          *ZZ*ONCOSCRUBTEST  *ZZ*CLEARINGHOUSE  "
        f"*260601*0900*^*00501*{control:09d}*0*T*:"
    )
    segments = [
        isa,
        f"GS*HC*ONCOSCRUBTEST*CLEARINGHOUSE*20260601*0900*{control}*X*{version}",
        *body,
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "~\n".join(segments) + "~\n"


def as_837_claim(doc: dict[str, Any]) -> dict[str, Any]:
    """What the 837 can carry of a v1 claim: no MAR, the payer as the 837 names it."""
    out = {k: v for k, v in doc.items() if k not in ("administrations", "encounters")}
    _payer_id, filing = PAYER_IDS[doc["payer"]["payer_id"]]
    out["payer"] = {
        "payer_id": doc["payer"]["payer_id"],
        "name": doc["payer"]["name"].upper(),
        "plan": filing,
    }
    out["service_lines"] = [
        {
            **x,
            "diagnosis_pointers": (x.get("diagnosis_pointers") or [1])
            if doc["claim_type"] == "professional"
            else [],
            "revenue_code": x.get("revenue_code") if doc["claim_type"] == "institutional" else None,
        }
        for x in doc["service_lines"]
    ]
    return out
