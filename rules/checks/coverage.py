"""Coverage (spec §7.3): payer rows that require documented medical necessity or limit
fractions for a diagnosis, and Choosing Wisely's single fraction for bone metastases."""

from __future__ import annotations

from rules.checks.check import claim_check
from rules.checks.radiation import delivered_fractions, radiation_billed
from rules.claim_view import ClaimView, Line
from rules.codegroups import BRACHYTHERAPY, EBRT_DELIVERY
from rules.rule import ERR, INFO, M, Parameter, ParameterKind, PayerAction, Rule
from rules.sources import authority


def _medical_necessity(v: ClaimView, rule: Rule) -> None:
    for policy in v.policies(rule):
        hit = [x for x in v.lines if x.code in policy.codes()]
        if hit:
            v.report_policy(
                rule,
                policy,
                f"{', '.join(sorted({x.code for x in hit}))}: payer "
                f"policy {policy.policy_id} requires documented medical necessity "
                f"({policy.description[:200]})",
                hit,
            )


def _delivery(v: ClaimView) -> tuple[Line, ...]:
    """The external-beam delivery lines the fractions were counted from."""
    return v.having(EBRT_DELIVERY - BRACHYTHERAPY)


COV_PROTON = Rule(
    id="COV-PROTON",
    title="Payer coverage: proton therapy indications",
    checks=(
        "With a payer policy row, flags proton delivery for the documentation the payer's "
        "coverage policy requires (group 1 indication, or dosimetric justification)."
    ),
    why="LCD L33937: group 1 indications covered; group 2 only with documented justification.",
    confidence=M,
    section="7.3",
    sources=("S58",),
    severity=ERR,
    payer_actions=(
        PayerAction("require_documentation", (Parameter("codes", ParameterKind.CODES),)),
    ),
    authority=(authority("LCD-L33937", "Coverage indications, limitations and medical necessity"),),
    action=(
        "Confirm the documented indication (group 1, or group 2 with the dosimetric justification)"
    ),
)


@claim_check(COV_PROTON, when=radiation_billed)
def proton_medical_necessity(v: ClaimView) -> None:
    _medical_necessity(v, COV_PROTON)


COV_IMRT = Rule(
    id="COV-IMRT",
    title="Payer coverage: IMRT justification",
    checks=(
        "With a payer policy row, flags IMRT planning or delivery for the justification over "
        "3D conformal the payer requires."
    ),
    why="Payers require critical-structure and DVH documentation for IMRT.",
    confidence=M,
    section="7.3",
    sources=("S57",),
    severity=ERR,
    payer_actions=(
        PayerAction("require_documentation", (Parameter("codes", ParameterKind.CODES),)),
    ),
    authority=(
        authority("CPT-RADIATION", "Intensity modulated radiation therapy (77301, 77385, 77386)"),
    ),
    action="Confirm the documented justification for IMRT over 3D conformal radiation",
)


@claim_check(COV_IMRT, when=radiation_billed)
def imrt_medical_necessity(v: ClaimView) -> None:
    _medical_necessity(v, COV_IMRT)


COV_FX = Rule(
    id="COV-FX",
    title="Payer coverage: fraction limits",
    checks=(
        "With a payer policy row, flags more fractions on the claim than the row allows for "
        "the diagnosis."
    ),
    why="Payer fractionation policies (e.g. at most 10 fractions for palliative bone metastases).",
    confidence=M,
    section="7.3",
    sources=("S57",),
    severity=ERR,
    payer_actions=(
        PayerAction(
            "max_fractions",
            (Parameter("dx", ParameterKind.PREFIXES), Parameter("max", ParameterKind.INTEGER)),
        ),
    ),
    authority=(authority("CPT-RADIATION", "Radiation treatment delivery, per fraction"),),
    action=(
        "Check the fractions against the payer's policy; request authorization or document the "
        "exception"
    ),
)


@claim_check(COV_FX, when=radiation_billed)
def fractions_for_diagnosis(v: ClaimView) -> None:
    fractions = delivered_fractions(v)
    for policy in v.policies(COV_FX):
        prefixes = policy.list_param("dx")
        limit = policy.int_param("max")
        if any(d.startswith(prefixes) for d in v.diagnoses) and fractions > limit:
            v.report_policy(
                COV_FX,
                policy,
                f"{fractions} fractions; payer policy {policy.policy_id} "
                f"allows {limit} for this diagnosis.",
                _delivery(v),
            )


COV_CW = Rule(
    id="COV-CW",
    title="Single-fraction palliation of bone metastases",
    checks="Notes more than one fraction on a claim with a bone metastasis (C79.5-).",
    why="ASTRO Choosing Wisely: consider a single 8 Gy fraction when prognosis is limited.",
    confidence=M,
    section="7.3",
    sources=("S60",),
    severity=INFO,
    authority=(authority("CW-ASTRO"),),
    action="Nothing required for this claim; consider whether a single fraction would have served",
)


@claim_check(COV_CW, when=radiation_billed)
def single_fraction_for_bone_metastases(v: ClaimView) -> None:
    fractions = delivered_fractions(v)
    if any(d.startswith("C79.5") for d in v.diagnoses) and fractions > 1:
        v.report(
            COV_CW,
            f"Bone metastasis treated in {fractions} fractions: consider "
            "whether a single 8 Gy fraction was appropriate.",
            _delivery(v),
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (COV_PROTON, COV_IMRT, COV_FX, COV_CW)
