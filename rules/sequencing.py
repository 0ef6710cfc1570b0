"""ICD-10-CM validity and sequencing for oncology encounters (spec §5), with payer policies.

The guideline decides by default. A payer changes that only through a policy row naming its
written, published policy (§5.2): ``resequence`` applies the guideline's order for that payer
automatically, ``accept_as_billed`` records that the payer's policy accepts the order billed.
Without a row, a deviating claim goes to review; the engine never resequences on its own.
"""

from __future__ import annotations

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
from rules.registry import rule
from schemas.decision import CorrectionAction, Severity


def check_sequencing(v: ClaimView) -> None:
    _validity(v)
    dx = v.diagnoses
    chemo = any(x.code in CHEMO_ADMIN or x.code.startswith("J9") for x in v.lines)
    ebrt = any(x.code in EBRT_DELIVERY for x in v.lines)
    brachy = any(x.code in BRACHYTHERAPY for x in v.lines)
    therapy = chemo or ebrt
    if therapy:
        _z51_first(v, chemo, ebrt)
        if any(is_surgery(x.code) for x in v.lines):
            v.report(
                rule("DX-N1"),
                "Surgery and antineoplastic therapy on one claim: if "
                "this is one episode, the malignancy may be first (I.C.2.e.1); confirm.",
            )
    elif brachy and dx and dx[0] in Z51_RADIATION | Z51_CHEMO:
        v.report(
            rule("DX-S3"),
            f"Brachytherapy encounter lists {dx[0]} first; list the malignancy first.",
            suggested_correction="list the neoplasm first",
        )
    _z51_needs_neoplasm(v)
    _anemia(v)
    if not therapy and not brachy and dx and is_neoplasm(dx[0]):
        complication = next((d for d in dx if is_complication(d)), None)
        if complication:
            v.report(
                rule("DX-S7"),
                f"No antineoplastic therapy is billed; the complication "
                f"{complication} being treated is listed after the neoplasm {dx[0]}.",
                suggested_correction=f"list {complication} first, then the neoplasm",
            )
    if dx and dx[0].startswith("T45.1X5"):
        v.report(
            rule("DX-S8"),
            f"{dx[0]} (adverse effect of antineoplastic drugs) is "
            "first-listed; the nature of the effect comes first.",
        )
    _surveillance(v)


def _validity(v: ClaimView) -> None:
    icd = v.pack.icd10
    for d in v.diagnoses:
        known = icd.billable.get(d)
        if known is None:
            v.report(rule("DX-V1"), f"{d} is not an ICD-10-CM code in the pack's code set.")
        elif not known:
            v.report(
                rule("DX-V1"),
                f"{d} is a category header, not a billable code; use the most specific code.",
            )
    if (
        v.facility
        and v.diagnoses
        and (excl := icd.unacceptable_pdx.get(v.diagnoses[0])) is not None
    ):
        v.report(
            rule("DX-V2"),
            f"{v.diagnoses[0]} is unacceptable as the principal diagnosis"
            + (" unless an I/OCE exclusion applies." if excl else "."),
            severity=Severity.WARNING if excl else None,
        )


def _z51_first(v: ClaimView, chemo: bool, ebrt: bool) -> None:
    dx = v.diagnoses
    expected = (Z51_CHEMO if chemo else frozenset()) | (Z51_RADIATION if ebrt else frozenset())
    if dx[0] in expected:
        if any(is_complication(d) for d in dx) and (
            min((i for i, d in enumerate(dx) if is_complication(d)), default=99)
            < min((i for i, d in enumerate(dx) if is_neoplasm(d)), default=99)
        ):
            v.report(
                rule("DX-N2"),
                "A complication is listed before the neoplasm under "
                "treatment; confirm the sequence.",
            )
        return
    wanted = " or ".join(sorted(expected))
    present = [d for d in dx if d in expected]
    s1 = rule("DX-S1")
    for policy in v.policies("DX-S1"):
        cite = (policy_citation(policy),)
        if policy.action == "accept_as_billed":
            v.report(
                s1,
                f"{dx[0]} first is accepted by the payer's written policy {policy.policy_id}.",
                severity=policy.severity,
                cite=cite,
            )
            return
        if policy.action == "resequence" and present:
            order = (present[0], *(d for d in dx if d != present[0]))
            v.corrections.append(
                s1.correction(
                    CorrectionAction.RESEQUENCE_DIAGNOSES,
                    f"Payer policy {policy.policy_id} enforces {present[0]} first.",
                    diagnoses=order,
                    policy_id=policy.policy_id,
                )
            )
            v.report(
                s1,
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
        s1,
        f"Antineoplastic therapy encounter lists {dx[0]} first; the guideline puts "
        f"{wanted} first and no payer policy in the pack says otherwise.",
        suggested_correction=fix,
    )


def _z51_needs_neoplasm(v: ClaimView) -> None:
    z51 = [d for d in v.diagnoses if d in Z51_CHEMO | Z51_RADIATION]
    if z51 and not any(is_neoplasm(d) for d in v.diagnoses):
        history = [d for d in v.diagnoses if d.startswith("Z85")]
        v.report(
            rule("DX-S2"),
            f"{z51[0]} is listed with no neoplasm code"
            + (
                f"; {history[0]} is a history code, but a malignancy under treatment is "
                "coded as active"
                if history
                else ""
            )
            + ".",
        )


def _anemia(v: ClaimView) -> None:
    dx = v.diagnoses
    neo = [i for i, d in enumerate(dx) if is_neoplasm(d)]
    if "D63.0" in dx and (not neo or dx.index("D63.0") < neo[0]):
        v.report(
            rule("DX-S4"),
            "D63.0 (anemia in neoplastic disease) must follow the neoplasm code.",
            suggested_correction="list the neoplasm before D63.0",
        )
    if "D64.81" in dx:
        t = [i for i, d in enumerate(dx) if d.startswith("T45.1X5")]
        if not t:
            v.report(
                rule("DX-S5"),
                "D64.81 (anemia due to antineoplastic chemotherapy) "
                "without T45.1X5- (adverse effect of antineoplastic drugs).",
            )
        elif t[0] < dx.index("D64.81"):
            v.report(rule("DX-S5"), "T45.1X5- is listed before D64.81; list the anemia first.")
    if "Y84.2" in dx:
        anemia = [i for i, d in enumerate(dx) if d.startswith(("D64", "D63"))]
        if dx[0] == "Y84.2" or not anemia or anemia[0] > dx.index("Y84.2"):
            v.report(
                rule("DX-S6"),
                "Y84.2 (radiotherapy as the cause) must follow the anemia "
                "code (D64.89) and the neoplasm.",
            )


def _surveillance(v: ClaimView) -> None:
    dx = v.diagnoses
    if "Z08" not in dx:
        return
    if dx[0] != "Z08" or not any(d.startswith("Z85") for d in dx):
        v.report(
            rule("DX-S9"),
            "Follow-up after completed treatment: Z08 first, then the Z85 history code.",
        )
    active = [d for d in dx if is_malignant(d)]
    if active:
        v.report(
            rule("DX-S10"),
            f"{active[0]} is an active malignancy code on a follow-up "
            "(Z08) claim; after completed treatment it is a Z85 history code.",
        )
