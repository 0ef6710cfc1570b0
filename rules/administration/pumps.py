"""Step G (spec 2.9): pump initiation, refill and disconnect."""

from __future__ import annotations

from rules.administration.coding import Coding, describe
from rules.administration.events import Event, Kind
from rules.administration.standalone import ADM_H5
from rules.drug_catalogue import Family
from rules.rule import NC, M, Rule
from rules.sources import authority
from schemas.claim import Route
from schemas.decision import Severity

ADM_G1 = Rule(
    id="ADM-G1",
    title="Pump initiation",
    checks=(
        "Codes initiation of a prolonged (more than 8 hours) pump infusion: 96416 "
        "(chemotherapy IV), 96425 (chemotherapy IA), C8957 (therapeutic IV, facility)."
    ),
    why=(
        "Starting a pump infusion planned for more than 8 hours is a service of its own; its "
        "in-chair portion is not also coded."
    ),
    confidence=M,
    section="2.8 G1, G5",
    sources=("S25", "S26", "S63"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): 96416 and 96425, prolonged infusion (more than 8 hours) with a "
                "pump"
            ),
        ),
        authority("HCPCS", "C8957 (hospital, non-chemotherapy prolonged infusion)"),
    ),
    action=(
        "Document the pump's planned duration: only an infusion planned for more than 8 hours is"
        " a pump initiation"
    ),
)

ADM_G2 = Rule(
    id="ADM-G2",
    title="G0498 for a provider-supplied pump (Medicare)",
    checks=(
        "Flags a chemotherapy pump supplied by the practice or hospital for a Medicare claim: "
        "G0498 may replace 96416."
    ),
    why="A55134, which instructed G0498, is reported retired 12/11/2025 (spec 8 Q8).",
    confidence=NC,
    section="2.8 G2, 8 Q8",
    sources=("S27", "S28"),
    authority=(
        authority("A55134"),
        authority("HCPCS", "G0498"),
    ),
    action=(
        "Confirm with the Medicare contractor whether G0498 or 96416 applies to a "
        "provider-supplied pump, then code it by hand or set the payer option"
    ),
)

ADM_G3 = Rule(
    id="ADM-G3",
    title="Pump refill and disconnect",
    checks="Codes a refill as 96521 (portable) or 96522 (implantable); a disconnect is not coded.",
    why="Disconnect is included in the initiation.",
    confidence=M,
    section="2.8 G3, G4",
    sources=("S25", "S26"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): 96521, 96522 refilling and maintenance of a pump"
            ),
        ),
    ),
    action=(
        "For a refill, document the pump's kind (portable or implantable); a disconnect needs no"
        " code"
    ),
)

ADM_G5 = Rule(
    id="ADM-G5",
    title="Non-chemotherapy pump on a professional claim",
    checks="Flags a prolonged therapeutic pump infusion on a professional claim.",
    why="No CPT analogue of C8957 was found (spec 2.8 G5).",
    confidence=NC,
    section="2.8 G5",
    sources=("S63",),
    authority=(
        authority("HCPCS", "C8957 (hospital outpatient only)"),
        authority(
            "CPT-DRUG-ADMIN",
            "Therapeutic, prophylactic and diagnostic injections and infusions (96365-96379)",
        ),
    ),
    action=(
        "Decide with the payer how a prolonged non-chemotherapy pump is reported on a "
        "professional claim and code it by hand"
    ),
)


def code_pump(c: Coding, e: Event) -> None:
    if e.kind is Kind.PUMP_REFILL:
        code = {"PORTABLE": "96521", "IMPLANTABLE": "96522"}.get(e.pump_kind or "")
        if code is None or e.pump_kind is None:
            c.findings.append(
                ADM_G3.finding(
                    "Pump refill without the pump's kind (portable or implantable).",
                    e.admin_ids,
                    severity=Severity.ERROR,
                )
            )
            return
        c.emit(code, 1, e, (ADM_G3,), f"refill of a {e.pump_kind.lower()} pump")
        return
    if e.family is Family.CHEMO and e.route is Route.IA:
        c.emit("96425", 1, e, (ADM_G1,), f"pump initiation (intra-arterial): {describe(e)}")
    elif e.family is Family.CHEMO:
        provider_pump = c.options.medicare and e.pump_supplied_by == "PROVIDER"
        if provider_pump:
            c.note(
                ADM_G2,
                "Medicare chemotherapy pump supplied by the provider: G0498 may "
                "be required instead of 96416.",
                e,
            )
        code = "G0498" if provider_pump and c.options.g0498_for_provider_pumps else "96416"
        c.emit(
            code,
            1,
            e,
            (ADM_G1, ADM_G2) if provider_pump else (ADM_G1,),
            f"pump initiation: {describe(e)}",
        )
    elif e.family is Family.THER and c.facility:
        c.emit("C8957", 1, e, (ADM_G1,), f"prolonged infusion pump initiation: {describe(e)}")
    elif e.family is Family.THER:
        c.note(ADM_G5, f"Prolonged {describe(e)} on a professional claim: no code found.", e)
    else:
        c.note(ADM_H5, f"No code for a pump of {describe(e)}.", e)


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_G1, ADM_G2, ADM_G3, ADM_G5)
