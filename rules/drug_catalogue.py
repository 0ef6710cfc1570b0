"""The drug catalogue: each drug's HCPCS code, billing unit and administration family, and
the payer overrides of a drug's family.

Parsing only (text in, tables out). ``rules.pack`` assembles them into a rule pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rules.cms_tables import csv_rows
from schemas.decision import Confidence

UNCLASSIFIED_CODES = frozenset({"J3490", "J3590", "J9999", "J7799", "C9399"})


class Family(StrEnum):
    CHEMO = "CHEMO"  # chemotherapy and other highly complex drugs/biologics (96401-96549)
    THER = "THER"  # therapeutic, prophylactic, diagnostic (96365-96379)
    HYD = "HYD"  # hydration: pre-packaged fluid and electrolytes only (96360-96361)


@dataclass(frozen=True, slots=True)
class DrugInfo:
    hcpcs: str  # "" for a drug billed under an unclassified code (no unit check)
    name: str
    unit_amount: Decimal | None
    unit: str
    family: Family
    hormonal: bool
    confidence: Confidence
    source: str


@dataclass(frozen=True, slots=True)
class PayerOverride:
    payer_id: str
    hcpcs: str
    family: Family
    hormonal: bool
    effective_from: date
    effective_through: date | None
    policy_reference: str

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (
            self.effective_through is None or on <= self.effective_through
        )


@dataclass(frozen=True)
class DrugCatalogue:
    by_hcpcs: dict[str, DrugInfo]
    by_name: dict[str, DrugInfo]
    overrides: tuple[PayerOverride, ...] = field(default=())

    def lookup(self, hcpcs: str | None, name: str, payer_id: str, on: date) -> DrugInfo | None:
        """The drug as this payer classifies it on this date; None when unknown."""
        # An unclassified code (J3490 and the like) names no drug: look it up by name.
        if hcpcs and hcpcs not in UNCLASSIFIED_CODES:
            base = self.by_hcpcs.get(hcpcs)
        else:
            base = self.by_name.get(_normal(name))
        if base is None:
            return None
        for o in self.overrides:
            if o.payer_id == payer_id and o.hcpcs == base.hcpcs and o.in_force(on):
                return DrugInfo(
                    hcpcs=base.hcpcs,
                    name=base.name,
                    unit_amount=base.unit_amount,
                    unit=base.unit,
                    family=o.family,
                    hormonal=o.hormonal,
                    # A written payer policy settles what the catalogue left open.
                    confidence=Confidence.HIGH,
                    source=f"payer policy {o.policy_reference}",
                )
        return base


def _normal(name: str) -> str:
    return " ".join(name.lower().split())


def parse_drugs(text: str) -> tuple[dict[str, DrugInfo], dict[str, DrugInfo]]:
    by_hcpcs: dict[str, DrugInfo] = {}
    by_code_or_name: dict[str, DrugInfo] = {}
    named: dict[str, set[str]] = {}
    for row in csv_rows(text):
        drug = DrugInfo(
            hcpcs=row["hcpcs"],
            name=row["name"],
            unit_amount=Decimal(row["unit_amount"]) if row["unit_amount"] else None,
            unit=row["unit"],
            family=Family(row["family"]),
            hormonal=row["hormonal"] == "true",
            confidence=Confidence(row["confidence"]),
            source=row["source"],
        )
        key = drug.hcpcs or _normal(drug.name)
        if key in by_hcpcs or key in by_code_or_name:
            raise ValueError(f"drug catalogue repeats {key}")
        by_code_or_name[key] = drug
        if drug.hcpcs:
            by_hcpcs[drug.hcpcs] = drug
        for name in [row["name"], *filter(None, row["aliases"].split(";"))]:
            named.setdefault(_normal(name), set()).add(key)
    # A name shared by two codes (bendamustine, bortezomib) is ambiguous: those
    # drugs are found by HCPCS only, never by a guess between them.
    by_name = {
        name: by_code_or_name[next(iter(keys))] for name, keys in named.items() if len(keys) == 1
    }
    return by_hcpcs, by_name


def parse_overrides(text: str) -> tuple[PayerOverride, ...]:
    return tuple(
        PayerOverride(
            payer_id=row["payer_id"],
            hcpcs=row["hcpcs"],
            family=Family(row["family"]),
            hormonal=row["hormonal"] == "true",
            effective_from=date.fromisoformat(row["effective_from"]),
            effective_through=date.fromisoformat(row["effective_through"])
            if row["effective_through"]
            else None,
            policy_reference=row["policy_reference"],
        )
        for row in csv_rows(text)
    )
