"""ICD-10-CM validity and sequencing for oncology encounters (spec §5), with payer policies.

The guideline decides by default. A payer changes that only through a policy row naming its
written, published policy (§5.2): ``resequence`` applies the guideline's order for that payer
automatically, ``accept_as_billed`` records that the payer's policy accepts the order billed.
Without a row, a deviating claim goes to review; the engine never resequences on its own.
"""

from __future__ import annotations

from rules.checks.check import claim_check
from rules.claim_view import ClaimView, policy_citation
from rules.codegroups import (
    BRACHYTHERAPY,
    CHEMO_ADMIN,
    EBRT_DELIVERY,
    Z51_CHEMO,
    Z51_RADIATION,
    is_complication,
    is_malignant,
    is_neoplasm,
    is_surgery,
)
from rules.rule import ERR, NC, H, M, PayerAction, Rule
from rules.sources import authority
from schemas.decision import CorrectionAction, Severity


def _chemo(v: ClaimView) -> bool:
    return any(x.code in CHEMO_ADMIN or x.code.startswith("J9") for x in v.lines)


def _ebrt(v: ClaimView) -> bool:
    return not v.codes.isdisjoint(EBRT_DELIVERY)


def antineoplastic_therapy(v: ClaimView) -> bool:
    """Chemotherapy, immunotherapy or external-beam radiation is billed on the claim."""
    return _chemo(v) or _ebrt(v)


def _z51_expected(v: ClaimView) -> frozenset[str]:
    return (Z51_CHEMO if _chemo(v) else frozenset()) | (Z51_RADIATION if _ebrt(v) else frozenset())


DX_V1 = Rule(
    id="DX-V1",
    title="Every diagnosis is a valid, billable ICD-10-CM code",
    checks=(
        "Looks up each diagnosis in the full ICD-10-CM code set of the pack: unknown codes and "
        "category headers (not the most specific code) are errors."
    ),
    why="HIPAA requires valid codes to the highest specificity for the date of service.",
    confidence=H,
    section="5",
    sources=("ICD10CM",),
    severity=ERR,
    example="C50.91 (a header) instead of C50.911.",
    authority=(
        authority("ICD10-GUIDELINES", "I.B.2 Level of detail in coding"),
        authority("ICD10-CODES"),
    ),
    action="Replace it with a valid code at its full level of detail",
)


@claim_check(DX_V1)
def valid_billable_codes(v: ClaimView) -> None:
    icd = v.pack.icd10
    for d in v.diagnoses:
        known = icd.billable.get(d)
        if known is None:
            v.report(DX_V1, f"{d} is not an ICD-10-CM code in the pack's code set.")
        elif not known:
            v.report(
                DX_V1,
                f"{d} is a category header, not a billable code; use the most specific code.",
            )


DX_V2 = Rule(
    id="DX-V2",
    title="First-listed diagnosis acceptable as principal",
    checks=(
        "On an institutional claim, flags a first-listed code the I/OCE marks unacceptable as "
        "principal diagnosis."
    ),
    why="The outpatient code editor rejects these codes in the principal position.",
    confidence=H,
    section="5",
    sources=("IOCE-DX",),
    severity=ERR,
    authority=(authority("IOCE", "diagnosis edits: unacceptable principal diagnosis"),),
    action=(
        "List first the diagnosis chiefly responsible for the visit, one acceptable as principal"
    ),
)


@claim_check(DX_V2)
def acceptable_principal(v: ClaimView) -> None:
    if (
        v.facility
        and v.diagnoses
        and (excl := v.pack.icd10.unacceptable_pdx.get(v.diagnoses[0])) is not None
    ):
        v.report(
            DX_V2,
            f"{v.diagnoses[0]} is unacceptable as the principal diagnosis"
            + (" unless an I/OCE exclusion applies." if excl else "."),
            severity=Severity.WARNING if excl else None,
        )


DX_N2 = Rule(
    id="DX-N2",
    title="A complication listed between Z51.x and the neoplasm needs confirmation",
    checks="Flags a therapy encounter whose complication code comes before the neoplasm.",
    why="Guideline I.C.2.e.3 (complications after Z51.x) was not retrieved verbatim.",
    confidence=NC,
    section="5.1",
    sources=("S39",),
    authority=(
        authority(
            "ICD10-GUIDELINES",
            "I.C.2.e.3 Management of complications associated with a neoplasm",
        ),
    ),
    action=(
        "Confirm the sequence: the neoplasm under treatment normally follows Z51.x, and "
        "complications follow it"
    ),
)


@claim_check(DX_N2, when=antineoplastic_therapy)
def complication_before_neoplasm(v: ClaimView) -> None:
    dx = v.diagnoses
    if dx[0] not in _z51_expected(v):
        return
    if any(is_complication(d) for d in dx) and (
        min((i for i, d in enumerate(dx) if is_complication(d)), default=99)
        < min((i for i, d in enumerate(dx) if is_neoplasm(d)), default=99)
    ):
        v.report(
            DX_N2,
            "A complication is listed before the neoplasm under treatment; confirm the sequence.",
        )


DX_S1 = Rule(
    id="DX-S1",
    title="Z51.x first for an antineoplastic therapy encounter",
    checks=(
        "When the claim carries chemotherapy, immunotherapy or external-beam radiation, the "
        "first-listed diagnosis must be Z51.11, Z51.12 or Z51.0, brachytherapy on the claim "
        "or not (spec 5.1 takes the therapy branch first). A payer "
        "policy row naming a written policy may resequence automatically or accept the order "
        "as billed; without one, a deviating claim goes to review."
    ),
    why=(
        "ICD-10-CM Official Guidelines I.C.2.e.2; payers such as Health Net California deny "
        "chemotherapy claims with the malignancy first."
    ),
    confidence=H,
    section="5.1, 5.2, 2.10 V14",
    sources=("S39", "S43", "S44"),
    severity=ERR,
    example="Chemotherapy infusion billed with C50.911 first and Z51.11 second.",
    payer_actions=(PayerAction("resequence"), PayerAction("accept_as_billed")),
    authority=(
        authority(
            "ICD10-GUIDELINES",
            (
                "I.C.2.e.2 Patient admission/encounter solely for administration of "
                "chemotherapy, immunotherapy and radiation therapy"
            ),
        ),
    ),
    action=(
        "List Z51.11, Z51.12 or Z51.0 first, then the malignancy, unless the payer's written "
        "policy says otherwise"
    ),
)


@claim_check(DX_S1, when=antineoplastic_therapy)
def z51_first(v: ClaimView) -> None:
    dx = v.diagnoses
    expected = _z51_expected(v)
    if dx[0] in expected:
        return
    wanted = " or ".join(sorted(expected))
    present = [d for d in dx if d in expected]
    for policy in v.policies(DX_S1):
        cite = (policy_citation(policy),)
        if policy.action == "accept_as_billed":
            v.report(
                DX_S1,
                f"{dx[0]} first is accepted by the payer's written policy {policy.policy_id}.",
                severity=policy.severity,
                cite=cite,
            )
            return
        if policy.action == "resequence" and present:
            order = (present[0], *(d for d in dx if d != present[0]))
            v.corrections.append(
                DX_S1.correction(
                    CorrectionAction.RESEQUENCE_DIAGNOSES,
                    f"Payer policy {policy.policy_id} enforces {present[0]} first.",
                    diagnoses=order,
                    policy_id=policy.policy_id,
                )
            )
            v.report(
                DX_S1,
                f"Antineoplastic therapy encounter listed {dx[0]} first; resequenced "
                f"to {present[0]} first under payer policy {policy.policy_id}.",
                severity=policy.severity,
                cite=cite,
            )
            return
    fix = (
        f"move {present[0]} to first position"
        if present
        else f"add {wanted} as the first-listed diagnosis, then the malignancy"
    )
    v.report(
        DX_S1,
        f"Antineoplastic therapy encounter lists {dx[0]} first; the guideline puts "
        f"{wanted} first and no payer policy in the pack says otherwise.",
        suggested_correction=fix,
    )


DX_N1 = Rule(
    id="DX-N1",
    title="Surgery with adjunct therapy in one episode needs confirmation",
    checks="Flags a claim with a surgical procedure code and antineoplastic therapy.",
    why="Guideline I.C.2.e.1 (malignancy first) was not retrieved verbatim.",
    confidence=NC,
    section="5.1",
    sources=("S39",),
    authority=(
        authority(
            "ICD10-GUIDELINES",
            "I.C.2.e.1 Episode of care involving surgical removal of a neoplasm",
        ),
    ),
    action=(
        "Confirm whether surgery and adjunct therapy are one episode; if so, list the malignancy"
        " first"
    ),
)


@claim_check(DX_N1, when=antineoplastic_therapy)
def surgery_with_adjunct_therapy(v: ClaimView) -> None:
    if any(is_surgery(x.code) for x in v.lines):
        v.report(
            DX_N1,
            "Surgery and antineoplastic therapy on one claim: if "
            "this is one episode, the malignancy may be first (I.C.2.e.1); confirm.",
        )


DX_S3 = Rule(
    id="DX-S3",
    title="Brachytherapy encounter lists the malignancy first",
    checks=(
        "When the claim carries brachytherapy and no other antineoplastic therapy, the first "
        "diagnosis must be the neoplasm, not Z51.0."
    ),
    why=(
        "Guideline I.C.2.e.2: encounters for insertion of radioactive elements list the "
        "malignancy first."
    ),
    confidence=H,
    section="5.1",
    sources=("S39",),
    severity=ERR,
    authority=(
        authority(
            "ICD10-GUIDELINES",
            "I.C.2.e.2: encounters for insertion or implantation of radioactive elements",
        ),
    ),
    action="List the malignancy first",
)


@claim_check(DX_S3)
def brachytherapy_malignancy_first(v: ClaimView) -> None:
    dx = v.diagnoses
    brachy = any(x.code in BRACHYTHERAPY for x in v.lines)
    if not antineoplastic_therapy(v) and brachy and dx and dx[0] in Z51_RADIATION | Z51_CHEMO:
        v.report(
            DX_S3,
            f"Brachytherapy encounter lists {dx[0]} first; list the malignancy first.",
            suggested_correction="list the neoplasm first",
        )


DX_S2 = Rule(
    id="DX-S2",
    title="Z51.x needs the neoplasm being treated",
    checks=(
        "Flags Z51.0, Z51.11 or Z51.12 on a claim with no neoplasm code (C00-D49); a history "
        "code (Z85) does not count."
    ),
    why=(
        "The malignancy under treatment is coded while treatment continues; Z51.1x is never "
        "for a non-neoplastic condition (Excludes2) and Z51.12 only for antineoplastic "
        "immunotherapy."
    ),
    confidence=M,
    section="5.1",
    sources=("S39", "S45"),
    severity=ERR,
    authority=(
        authority("ICD10-GUIDELINES", "I.C.2.d Primary malignancy previously excised; I.C.2.e.2"),
        authority("ICD10-CODES", "Z51.1 Excludes2"),
    ),
    action="Add the neoplasm under treatment (the active code while treatment continues)",
)


@claim_check(DX_S2)
def z51_needs_neoplasm(v: ClaimView) -> None:
    z51 = [d for d in v.diagnoses if d in Z51_CHEMO | Z51_RADIATION]
    if z51 and not any(is_neoplasm(d) for d in v.diagnoses):
        history = [d for d in v.diagnoses if d.startswith("Z85")]
        v.report(
            DX_S2,
            f"{z51[0]} is listed with no neoplasm code"
            + (
                f"; {history[0]} is a history code, but a malignancy under treatment is "
                "coded as active"
                if history
                else ""
            )
            + ".",
        )


DX_S4 = Rule(
    id="DX-S4",
    title="Anemia in neoplastic disease follows the neoplasm",
    checks="Flags D63.0 listed before every neoplasm code, or without one.",
    why="Guideline I.C.2.c.1: the malignancy is sequenced first, then D63.0.",
    confidence=H,
    section="5.1",
    sources=("S40",),
    severity=ERR,
    authority=(authority("ICD10-GUIDELINES", "I.C.2.c.1 Anemia associated with malignancy"),),
    action="List the neoplasm first, then D63.0",
)


@claim_check(DX_S4)
def anemia_in_neoplastic_disease(v: ClaimView) -> None:
    dx = v.diagnoses
    neo = [i for i, d in enumerate(dx) if is_neoplasm(d)]
    if "D63.0" in dx and (not neo or dx.index("D63.0") < neo[0]):
        v.report(
            DX_S4,
            "D63.0 (anemia in neoplastic disease) must follow the neoplasm code.",
            suggested_correction="list the neoplasm before D63.0",
        )


DX_S5 = Rule(
    id="DX-S5",
    title="Anemia due to chemotherapy names the drug's adverse effect",
    checks=(
        "Flags D64.81 without T45.1X5- (adverse effect of antineoplastic drugs), or with the T "
        "code listed before it."
    ),
    why="Guideline I.C.2.c.2: D64.81, then the neoplasm, then T45.1X5-.",
    confidence=M,
    section="5.1",
    sources=("S40",),
    severity=ERR,
    authority=(
        authority(
            "ICD10-GUIDELINES",
            "I.C.2.c.2 Anemia associated with chemotherapy, immunotherapy and radiation therapy",
        ),
    ),
    action="List D64.81, then the neoplasm, then T45.1X5-",
)


@claim_check(DX_S5)
def anemia_due_to_chemotherapy(v: ClaimView) -> None:
    dx = v.diagnoses
    if "D64.81" not in dx:
        return
    t = [i for i, d in enumerate(dx) if d.startswith("T45.1X5")]
    if not t:
        v.report(
            DX_S5,
            "D64.81 (anemia due to antineoplastic chemotherapy) "
            "without T45.1X5- (adverse effect of antineoplastic drugs).",
        )
    elif t[0] < dx.index("D64.81"):
        v.report(DX_S5, "T45.1X5- is listed before D64.81; list the anemia first.")


DX_S6 = Rule(
    id="DX-S6",
    title="Anemia due to radiotherapy: anemia, neoplasm, then Y84.2",
    checks="Flags Y84.2 without an anemia code before it, or listed first.",
    why="An external-cause code explains the anemia; it is never first-listed.",
    confidence=M,
    section="5.1",
    sources=("S40",),
    severity=ERR,
    authority=(
        authority(
            "ICD10-GUIDELINES",
            "I.C.2.c.2 Anemia associated with chemotherapy, immunotherapy and radiation therapy",
        ),
    ),
    action="List the anemia (D64.89), then the neoplasm, then Y84.2",
)


@claim_check(DX_S6)
def anemia_due_to_radiotherapy(v: ClaimView) -> None:
    dx = v.diagnoses
    if "Y84.2" in dx:
        anemia = [i for i, d in enumerate(dx) if d.startswith(("D64", "D63"))]
        if dx[0] == "Y84.2" or not anemia or anemia[0] > dx.index("Y84.2"):
            v.report(
                DX_S6,
                "Y84.2 (radiotherapy as the cause) must follow the anemia "
                "code (D64.89) and the neoplasm.",
            )


DX_S7 = Rule(
    id="DX-S7",
    title="A complication treated alone is listed first",
    checks=(
        "When no antineoplastic therapy is billed and the claim lists dehydration (E86), "
        "nausea and vomiting (R11) or neoplasm-related pain (G89.3), the neoplasm must not be "
        "first."
    ),
    why=(
        "Guidelines I.C.2.c.3 and I.C.2.l.4: the complication being treated is first, then the "
        "neoplasm."
    ),
    confidence=M,
    section="5.1",
    sources=("S41",),
    severity=ERR,
    authority=(
        authority(
            "ICD10-GUIDELINES",
            (
                "I.C.2.c.3 Management of dehydration due to the malignancy; I.C.2.c.4 Treatment "
                "of a complication"
            ),
        ),
    ),
    action="List the complication treated first, then the neoplasm",
)


@claim_check(DX_S7)
def complication_treated_alone(v: ClaimView) -> None:
    dx = v.diagnoses
    brachy = any(x.code in BRACHYTHERAPY for x in v.lines)
    if not antineoplastic_therapy(v) and not brachy and dx and is_neoplasm(dx[0]):
        complication = next((d for d in dx if is_complication(d)), None)
        if complication:
            v.report(
                DX_S7,
                f"No antineoplastic therapy is billed; the complication "
                f"{complication} being treated is listed after the neoplasm {dx[0]}.",
                suggested_correction=f"list {complication} first, then the neoplasm",
            )


DX_S8 = Rule(
    id="DX-S8",
    title="An adverse-effect T code is not first-listed",
    checks="Flags T45.1X5- (adverse effect of antineoplastic drugs) in first position.",
    why="Guideline I.C.19.e.5.a: the nature of the effect (e.g. R11.x) comes first.",
    confidence=M,
    section="5.1",
    sources=("S41",),
    severity=ERR,
    authority=(authority("ICD10-GUIDELINES", "I.C.19.e.5.a Adverse effect"),),
    action="List the nature of the adverse effect (for example R11.x) first, then T45.1X5-",
)


@claim_check(DX_S8)
def adverse_effect_not_first(v: ClaimView) -> None:
    dx = v.diagnoses
    if dx and dx[0].startswith("T45.1X5"):
        v.report(
            DX_S8,
            f"{dx[0]} (adverse effect of antineoplastic drugs) is "
            "first-listed; the nature of the effect comes first.",
        )


DX_S9 = Rule(
    id="DX-S9",
    title="Follow-up after completed treatment: Z08 first, then Z85",
    checks="Flags Z08 not listed first, or without a Z85 history code.",
    why=(
        "Guideline I.C.21.c.8: surveillance after completed treatment is Z08 with the history "
        "of malignancy."
    ),
    confidence=M,
    section="5.1",
    sources=("S42",),
    severity=ERR,
    authority=(authority("ICD10-GUIDELINES", "I.C.21.c.8 Follow-up"),),
    action="List Z08 first and add the Z85 history code",
)


@claim_check(DX_S9)
def surveillance_z08_first(v: ClaimView) -> None:
    dx = v.diagnoses
    if "Z08" in dx and (dx[0] != "Z08" or not any(d.startswith("Z85") for d in dx)):
        v.report(
            DX_S9,
            "Follow-up after completed treatment: Z08 first, then the Z85 history code.",
        )


DX_S10 = Rule(
    id="DX-S10",
    title="No active malignancy code at surveillance",
    checks="Flags an active C-code on a Z08 follow-up claim.",
    why=(
        "A malignancy excised or eradicated with no further treatment and no evidence of "
        "disease is coded Z85, not the C-code."
    ),
    confidence=M,
    section="5.1",
    sources=("S42",),
    severity=ERR,
    authority=(authority("ICD10-GUIDELINES", "I.C.2.d Primary malignancy previously excised"),),
    action="Replace the active malignancy code with its Z85 history code",
)


@claim_check(DX_S10)
def no_active_malignancy_at_surveillance(v: ClaimView) -> None:
    dx = v.diagnoses
    if "Z08" not in dx:
        return
    active = [d for d in dx if is_malignant(d)]
    if active:
        v.report(
            DX_S10,
            f"{active[0]} is an active malignancy code on a follow-up "
            "(Z08) claim; after completed treatment it is a Z85 history code.",
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (
    DX_V1,
    DX_V2,
    DX_N2,
    DX_S1,
    DX_N1,
    DX_S3,
    DX_S2,
    DX_S4,
    DX_S5,
    DX_S6,
    DX_S7,
    DX_S8,
    DX_S9,
    DX_S10,
)
