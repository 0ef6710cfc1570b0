"""Named groups of procedure and diagnosis codes the claim rules reason about (spec §1.4, §5,
§6, §7). Membership tests only; the CMS tables themselves are in the rule pack."""

from __future__ import annotations


def in_range(code: str, low: str, high: str) -> bool:
    return len(code) == len(low) and low <= code <= high


def _span(low: int, high: int) -> frozenset[str]:
    return frozenset(str(c) for c in range(low, high + 1))


# -- drug administration and visits --------------------------------------------------------
# The codes the engine computes from a MAR: a claim's own lines in this set are superseded.
DRUG_ADMIN = _span(96360, 96549) | {"C8957", "G0498"}
CHEMO_ADMIN = (_span(96401, 96549) - {"96402", "96523"}) | {"G0498"}  # 96402: hormonal (see docs)
# IV infusion, push and hydration codes (not the SQ/IM and intra-arterial injections 96372,
# 96373, the SQ infusions 96369-96371, the on-body injector 96377, the unlisted 96379).
IV_INFUSION_OR_PUSH = frozenset(
    {"96360", "96361", "96365", "96366", "96367", "96368", "96374", "96375", "96376", "96409",
     "96411", "96413", "96415", "96416", "96417", "C8957", "G0498"}
)  # fmt: skip
HYDRATION = frozenset({"96360", "96361"})
OTHER_INFUSION = frozenset({"96365", "96366", "96367", "96368", "96413", "96415", "96416", "96417"})
PUMP_INITIATION = frozenset({"96416", "96425"})
PUMP_REFILL = frozenset({"96521", "96522"})
EM_VISITS = _span(99202, 99205) | _span(99211, 99215) | {"G0463"}
PERIPHERAL_IV_START = frozenset({"36000", "36410"})
DEVICE_BLOOD_DRAW = frozenset({"36591", "36592"})

# -- radiation oncology (spec 1.4, 7.1, 7.4) -----------------------------------------------
CLINICAL_PLANNING = frozenset({"77261", "77262", "77263"})
SIMULATION = frozenset({"77280", "77285", "77290"})
DOSIMETRIC_PLANNING = frozenset({"77295", "77301", "77306", "77307", "77321", "77331"})
ISODOSE_TELETHERAPY = frozenset({"77306", "77307"})
ISODOSE_BRACHY = frozenset({"77316", "77317", "77318"})
IMRT_DELIVERY = frozenset({"77385", "77386"})
SRS_SBRT = frozenset({"77371", "77372", "77373"})
PROTON = frozenset({"77520", "77522", "77523", "77525"})
G_DELIVERY = frozenset(f"G60{n:02d}" for n in range(3, 17))
EBRT_DELIVERY = (
    frozenset({"77401", "77402", "77407", "77412"}) | IMRT_DELIVERY | SRS_SBRT | PROTON
    | G_DELIVERY
)  # fmt: skip
BRACHYTHERAPY = _span(77750, 77799)
HIGH_SCRUTINY = SRS_SBRT | PROTON | BRACHYTHERAPY
RADIATION = _span(77261, 77799) | frozenset(f"G60{n:02d}" for n in range(1, 18))


def is_lab(code: str) -> bool:
    return in_range(code, "80047", "89398")


def is_surgery(code: str) -> bool:
    """CPT surgery section, without the vascular access and injection codes (36000-36599)."""
    return in_range(code, "10004", "69990") and not in_range(code, "36000", "36599")


# -- diagnoses (dotted ICD-10-CM) ------------------------------------------------------------
Z51_CHEMO = frozenset({"Z51.11", "Z51.12"})
Z51_RADIATION = frozenset({"Z51.0"})
COMPLICATION_PREFIXES = ("E86", "R11", "G89.3")


def is_neoplasm(dx: str) -> bool:
    return dx[:1] == "C" or (dx[:1] == "D" and dx[1:3].isdigit() and int(dx[1:3]) <= 49)


def is_malignant(dx: str) -> bool:
    return dx[:1] == "C"


def is_complication(dx: str) -> bool:
    return dx.startswith(COMPLICATION_PREFIXES)
