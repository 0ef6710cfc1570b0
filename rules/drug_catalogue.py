"""The drug catalogue by date: each HCPCS drug code's billing unit and administration family
on a date of service, the code CMS replaced a deleted one with, the names a MAR may use for a
drug, and the payer overrides of a drug's family.

Two files make it: ``drug_codes.csv`` (every HCPCS Level II drug, biological and
radiopharmaceutical code by date range, derived from the CMS HCPCS tables by
``tools/drugs.py``) and ``drugs.csv`` (the specification's table: the authority for the drugs
it lists, and the names and aliases a MAR entry is matched by when its code names no drug).

Parsing only (text in, tables out). ``rules.pack`` assembles them into a rule pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    # A therapeutic electrolyte: hydration when added to a hydration fluid (CPT's hydration
    # description names such fluids), a therapeutic infusion on its own.
    electrolyte: bool = False


@dataclass(frozen=True, slots=True)
class CodeRange:
    """One date range of a drug code, as ``drug_codes.csv`` holds it."""

    start: date
    end: date
    drug: DrugInfo
    successor: str  # on a deleted code's last range: the code CMS replaced it with


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
    codes: dict[str, tuple[CodeRange, ...]]  # HCPCS -> its ranges, oldest first
    names: dict[str, str]  # normalised name -> HCPCS ("" for a drug with no code of its own)
    named_only: dict[str, DrugInfo]  # drugs the spec's table lists without a code, by name
    overrides: tuple[PayerOverride, ...] = field(default=())

    @property
    def by_hcpcs(self) -> dict[str, DrugInfo]:
        """Every drug code with its newest description."""
        return {c: ranges[-1].drug for c, ranges in self.codes.items()}

    @property
    def by_name(self) -> dict[str, DrugInfo]:
        """Every name the catalogue matches a MAR entry by, with its drug's newest description."""
        return {n: self.named_only[n] if not c else self.codes[c][-1].drug
                for n, c in self.names.items()}  # fmt: skip

    def is_drug(self, hcpcs: str) -> bool:
        return hcpcs in self.codes

    def on(self, hcpcs: str, day: date) -> DrugInfo | None:
        """The code's drug on a date: the range in force, else the nearest one (a code keeps
        its class across its ranges; whether it may be billed that day is CODE-Q1's to say).
        None when the catalogue does not have the code."""
        ranges = self.codes.get(hcpcs)
        if not ranges:
            return None
        for r in ranges:
            if r.start <= day <= r.end:
                return r.drug
        if day < ranges[0].start:
            return ranges[0].drug
        return min(ranges, key=lambda r: abs((day - r.end).days)).drug

    def in_force(self, hcpcs: str, day: date) -> bool:
        return any(r.start <= day <= r.end for r in self.codes.get(hcpcs, ()))

    def successor(self, hcpcs: str) -> str:
        """The code CMS replaced a deleted drug code with ("" when none or not deleted)."""
        ranges = self.codes.get(hcpcs)
        return ranges[-1].successor if ranges else ""

    def lookup(self, hcpcs: str | None, name: str, payer_id: str, on: date) -> DrugInfo | None:
        """The drug as this payer classifies it on this date; None when unknown.

        A code that names a drug is looked up by code; an unclassified code (J3490 and the
        like) or none by the MAR's name. A payer's written policy on the code decides its
        class even when the catalogue does not know the code."""
        coded = bool(hcpcs) and hcpcs not in UNCLASSIFIED_CODES
        base = self.on(hcpcs, on) if coded and hcpcs else self._named(name, on)
        key = hcpcs if coded and hcpcs else (base.hcpcs if base else "")
        override = next(
            (o for o in self.overrides if o.payer_id == payer_id and o.hcpcs == key
             and key and o.in_force(on)),
            None,
        )  # fmt: skip
        if override is None:
            return base
        source = f"payer policy {override.policy_reference}"
        if base is None:
            return DrugInfo(
                hcpcs=key,
                name=name,
                unit_amount=None,
                unit="",
                family=override.family,
                hormonal=override.hormonal,
                confidence=Confidence.HIGH,
                source=source,
            )
        # A written payer policy settles what the catalogue left open.
        return replace(
            base,
            family=override.family,
            hormonal=override.hormonal,
            confidence=Confidence.HIGH,
            source=source,
        )

    def _named(self, name: str, on: date) -> DrugInfo | None:
        """A drug by the name the MAR gives it: on a date after CMS deleted the name's code,
        the code CMS replaced it with (the spec's table names some deleted codes)."""
        key = _normal(name)
        code = self.names.get(key)
        if code is None:
            return None
        if not code:
            return self.named_only[key]
        seen = {code}
        while not self.in_force(code, on) and (nxt := self.successor(code)) and nxt not in seen:
            if self.in_force(nxt, on) or self.codes[nxt][0].start <= on:
                code = nxt
            seen.add(nxt)
        return self.on(code, on)


def _normal(name: str) -> str:
    return " ".join(name.lower().split())


def _day(text: str) -> date:
    return date.fromisoformat(text)


def parse_catalogue(codes_text: str, spec_text: str, overrides_text: str) -> DrugCatalogue:
    """``drug_codes.csv``, ``drugs.csv`` and ``payer_drug_overrides.csv`` into the catalogue.

    A drug the spec's table lists keeps the table's source; every code of the table must be
    in ``drug_codes.csv`` (which carries the table's class and unit for it)."""
    spec_source: dict[str, str] = {}
    uncoded: dict[str, DrugInfo] = {}  # the table's drugs without a code, by their name
    named: dict[str, set[tuple[str, str]]] = {}  # name -> {(code, uncoded key)}
    for row in csv_rows(spec_text):
        code = row["hcpcs"]
        key = code or _normal(row["name"])
        if key in spec_source or key in uncoded:
            raise ValueError(f"drugs.csv repeats {key}")
        if code:
            spec_source[code] = row["source"]
        else:
            uncoded[key] = DrugInfo(
                hcpcs="",
                name=row["name"],
                unit_amount=Decimal(row["unit_amount"]) if row["unit_amount"] else None,
                unit=row["unit"],
                family=Family(row["family"]),
                hormonal=row["hormonal"] == "true",
                confidence=Confidence(row["confidence"]),
                source=row["source"],
            )
        for name in [row["name"], *filter(None, row["aliases"].split(";"))]:
            named.setdefault(_normal(name), set()).add((code, "" if code else key))
    codes: dict[str, list[CodeRange]] = {}
    for row in csv_rows(codes_text):
        code = row["hcpcs"]
        drug = DrugInfo(
            hcpcs=code,
            name=row["name"],
            unit_amount=Decimal(row["unit_amount"]) if row["unit_amount"] else None,
            unit=row["unit"],
            family=Family(row["family"]),
            hormonal=row["hormonal"] == "true",
            confidence=Confidence(row["confidence"]),
            source=spec_source.get(code) or f"CMS HCPCS drug catalogue, rule {row['basis']}",
            electrolyte=row["electrolyte"] == "true",
        )
        codes.setdefault(code, []).append(
            CodeRange(_day(row["effective_from"]), _day(row["effective_through"]), drug,
                      row["successor"])
        )  # fmt: skip
    missing = sorted(set(spec_source) - set(codes))
    if missing:
        raise ValueError(f"drugs.csv codes not in drug_codes.csv: {', '.join(missing)}")
    # A name shared by two codes (bendamustine, bortezomib) is ambiguous: those drugs are
    # found by HCPCS only, never by a guess between them.
    names: dict[str, str] = {}
    named_only: dict[str, DrugInfo] = {}
    for name, keys in named.items():
        if len(keys) == 1:
            code, key = next(iter(keys))
            names[name] = code
            if not code:
                named_only[name] = uncoded[key]
    return DrugCatalogue(
        {c: tuple(sorted(r, key=lambda x: x.start)) for c, r in codes.items()},
        names,
        named_only,
        parse_overrides(overrides_text),
    )


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
