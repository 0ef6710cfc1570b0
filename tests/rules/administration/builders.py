"""What the drug-administration rule cases share beyond ``tests/rules/mar_builder.py``."""

from __future__ import annotations

from functools import cache
from typing import Any

from rules.pack import RulePack, current_texts, pack_from_texts
from schemas import SubmittedClaim
from tests.rules.mar_builder import DAY, admin, at, claim

# A 46-hour take-home chemotherapy pump the practice supplies (spec example 6).
PUMP = {"kind": "PORTABLE", "planned_hours": "46", "supplied_by": "PROVIDER"}


def ns(start: str, stop: str | None, **kw: Any) -> dict[str, Any]:
    """One litre of normal saline (J7030), ordered hydration unless ``kw`` says otherwise."""
    return admin("normal saline", start, stop, dose="1000", unit="mL", **kw)


def overnight(drug: str, start: str, stop_next_day: str, **kw: Any) -> SubmittedClaim:
    """An infusion that starts on DAY and stops on the next calendar day."""
    entry = admin(drug, start, None, **kw)
    entry["stop"] = at(stop_next_day, "2026-05-05")
    assert entry["start"].startswith(DAY)
    return claim(entry)


@cache
def denosumab_policy_pack() -> RulePack:
    """The shipped pack plus one payer's written policy classifying denosumab (J0897) as
    therapeutic, which settles the class the catalogue marks NC (spec 4.1 rule 3)."""
    texts = current_texts()
    texts["payer_drug_overrides.csv"] = (
        texts["payer_drug_overrides.csv"].rstrip("\n")
        + "\nACME,J0897,THER,false,2026-01-01,,ACME policy RX-12 (2026)\n"
    )
    return pack_from_texts("denosumab-policy-test", texts)
