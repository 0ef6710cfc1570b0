"""Step H (spec 2.9): stand-alone routes (SQ/IM injections, on-body injectors, subcutaneous and
intra-arterial infusions, intralesional, cavities, intravesical) and port irrigation."""

from __future__ import annotations

from datetime import date

from rules.administration.coding import Coding, addl_hours, describe
from rules.administration.events import Event, Kind
from rules.administration.hydration import ADM_E1, ADM_E3
from rules.drug_catalogue import Family
from rules.rule import NC, H, M, Rule
from rules.sources import authority
from schemas.claim import Route
from schemas.decision import Severity

ADM_H1 = Rule(
    id="ADM-H1",
    title="Injections",
    checks=(
        "Codes each SQ/IM injection: 96372 (therapeutic), 96401 (non-hormonal antineoplastic), "
        "96402 (hormonal antineoplastic)."
    ),
    why=("SQ and IM injections have codes of their own, reported beside any IV service."),
    confidence=H,
    section="2.9",
    sources=("S2", "S5"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379); Chemotherapy and other highly complex drug or biologic "
                "administration (96401-96549): 96372, 96401, 96402"
            ),
        ),
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action="Nothing to do",
)

ADM_H2 = Rule(
    id="ADM-H2",
    title="Other routes",
    checks=(
        "Codes intralesional (96405/96406 by lesion count), intrathecal (96450 via lumbar "
        "puncture, 96542 via reservoir), pleural 96440, peritoneal 96446, intra-arterial "
        "(96420, 96422/96423, 96373) and SQ infusion (96369/96370)."
    ),
    why=(
        "Each route (intralesional, intrathecal, pleural, peritoneal, intra-arterial, "
        "subcutaneous infusion) has a code of its own."
    ),
    confidence=M,
    section="2.9, 2.3 B3",
    sources=("S65", "S25"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): intralesional, intracavitary, intrathecal and intra-arterial "
                "administration"
            ),
        ),
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379): 96369-96371, 96373"
            ),
        ),
    ),
    action=(
        "Nothing to do; when a detail the code needs is missing (the lesion count), document it "
        "and submit again"
    ),
)

ADM_H3 = Rule(
    id="ADM-H3",
    title="Port irrigation only as the sole service of the day",
    checks=(
        "Codes a documented flush of an implanted access device as 96523 only when no other "
        "service is billed that day."
    ),
    why=(
        "Medicare pays 96523 only when it is the only service; flushes before or after "
        "infusions are integral."
    ),
    confidence=H,
    section="2.9, 2.10 V6",
    sources=("S29",),
    authority=(
        authority(
            "IOM-12",
            (
                "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions:"
                " 96523 only when no other service is billed that day"
            ),
        ),
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): 96523"
            ),
        ),
    ),
    action="Nothing to do: 96523 is coded only on a day with no other service",
)

ADM_H4 = Rule(
    id="ADM-H4",
    title="Intravesical BCG",
    checks="Codes intravesical instillation as 51720.",
    why="No policy text was retrieved (spec 1.3).",
    confidence=NC,
    section="1.3",
    sources=(),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            "Urinary system: 51720 bladder instillation of an anticarcinogenic agent",
        ),
    ),
    action="Confirm 51720 for this instillation with the payer before billing it",
)

ADM_H6 = Rule(
    id="ADM-H6",
    title="On-body injector application",
    checks=(
        "Codes the application of an on-body injector for a timed subcutaneous injection "
        "(documented technique ON_BODY_INJECTOR, route SQ, a therapeutic drug) as 96377, once "
        "per application; the injection it delivers later is not coded again as 96372."
    ),
    why=(
        "CPT 96377 describes the application of the injector, cannula insertion included; the "
        "drug itself is billed on its own HCPCS line."
    ),
    confidence=M,
    section="1.1 (96377), 4.2 row 62",
    sources=("S65",),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379): 96377 application of an on-body injector"
            ),
        ),
    ),
    action=(
        "Nothing to do: bill the drug on its own HCPCS line; the later injection is not coded again"
    ),
)

ADM_H5 = Rule(
    id="ADM-H5",
    title="A route the engine cannot code goes to review",
    checks=(
        "Flags an administration whose route and drug family have no code in the catalogue "
        "(for example a non-chemotherapy drug given intrathecally)."
    ),
    why="The engine never guesses a code.",
    confidence=NC,
    section="2.9",
    sources=(),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services"
            ),
        ),
    ),
    action="Code this administration by hand: the engine has no code for its route and drug class",
)


_CAVITY = {Route.INTRATHECAL_LP: "96450", Route.INTRATHECAL_RESERVOIR: "96542",
           Route.PLEURAL: "96440", Route.PERITONEAL: "96446"}  # fmt: skip


def code_standalone(c: Coding, e: Event) -> None:
    minutes = e.minutes
    if e.kind is Kind.ON_BODY_INJECTOR:
        if e.route is Route.SQ and e.family is Family.THER:
            c.emit("96377", 1, e, (ADM_H6,), f"on-body injector applied: {describe(e)}")
        else:
            c.note(
                ADM_H5,
                f"No code for an on-body injector of {describe(e)} by route {e.route.value} "
                "(96377 is a subcutaneous therapeutic injection).",
                e,
            )
    elif e.kind is Kind.INJECTION:
        if e.family is Family.CHEMO:
            code = "96402" if e.hormonal else "96401"
            kind = "hormonal" if e.hormonal else "non-hormonal"
            c.emit(code, 1, e, (ADM_H1,), f"{kind} antineoplastic injection: {describe(e)}")
        elif e.family is Family.THER:
            c.emit("96372", 1, e, (ADM_H1,), f"injection: {describe(e)}")
        else:
            c.note(ADM_H5, f"No code for an injection of {describe(e)}.", e)
    elif e.kind is Kind.SQ_INFUSION and e.family is Family.THER:
        c.emit("96369", 1, e, (ADM_H2,), f"subcutaneous infusion: {describe(e)}", minutes)
        if addl_hours(minutes or 0):
            c.note(ADM_E3, "96370 units assume the 30-minute rule of other hourly codes.", e)
            c.emit(
                "96370",
                addl_hours(minutes or 0),
                e,
                (ADM_E3,),
                f"{addl_hours(minutes or 0)} additional hour(s)",
                minutes,
            )
    elif e.route is Route.IA and e.family is Family.CHEMO:
        if e.kind is Kind.PUSH:
            c.emit("96420", 1, e, (ADM_H2,), f"intra-arterial push: {describe(e)}", minutes)
        else:
            c.emit("96422", 1, e, (ADM_H2,), f"intra-arterial infusion: {describe(e)}", minutes)
            c.emit(
                "96423",
                addl_hours(minutes or 0),
                e,
                (ADM_E1,),
                f"{addl_hours(minutes or 0)} additional hour(s)",
                minutes,
            )
    elif e.route is Route.IA and e.family is Family.THER and e.kind is Kind.PUSH:
        c.emit("96373", 1, e, (ADM_H2,), f"intra-arterial injection: {describe(e)}")
    elif e.route is Route.INTRALESIONAL and e.family is Family.CHEMO:
        if e.lesion_count is None:
            c.findings.append(
                ADM_H2.finding(
                    "Intralesional chemotherapy without a lesion count: 96405 or 96406 cannot be "
                    "chosen.",
                    e.admin_ids,
                    severity=Severity.ERROR,
                )
            )
        else:
            code = "96405" if e.lesion_count <= 7 else "96406"
            c.emit(code, 1, e, (ADM_H2,), f"intralesional, {e.lesion_count} lesion(s)")
    elif e.route in _CAVITY and e.family is Family.CHEMO:
        c.emit(_CAVITY[e.route], 1, e, (ADM_H2,), f"{e.route.value.lower()}: {describe(e)}")
    elif e.route is Route.INTRAVESICAL:
        c.note(ADM_H4, "Intravesical instillation coded as 51720.", e)
        c.emit("51720", 1, e, (ADM_H4,), f"intravesical: {describe(e)}")
    else:
        c.note(ADM_H5, f"No code for {describe(e)} by route {e.route.value}.", e)


def code_port_flushes(c: Coding, events: list[Event], other_services: dict[date, set[str]]) -> None:
    """96523 only when the flush is the day's only service (submitted non-drug codes count)."""
    coded_dates = {line.date_of_service for line in c.lines}
    flushed: set[date] = set()
    for e in (e for e in events if e.kind is Kind.FLUSH):
        if e.dos.isoformat() in coded_dates or other_services.get(e.dos) or e.dos in flushed:
            c.note(ADM_H3, "Port flush on a day with other services: integral, not coded.", e)
            continue
        flushed.add(e.dos)
        c.emit("96523", 1, e, (ADM_H3,), "port irrigation, the only service of the day")


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_H1, ADM_H2, ADM_H3, ADM_H4, ADM_H5, ADM_H6)
