"""Payer policies and payer options: what a payer's written, published policy changes in a
rule for that payer and plan, and the coding choices a payer makes (Medicare or not, hydration
intervals combined, G0498). Parsing only; ``rules.pack`` assembles them into a rule pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rules.cms_tables import csv_rows, parse_day
from schemas.decision import Confidence, Severity


class PolicyError(ValueError):
    """A payer policy row the pack refuses, with the file, row and column at fault."""


@dataclass(frozen=True, slots=True)
class PayerPolicy:
    """A payer's written, published policy, captured as data: it changes what a rule does for
    that payer and plan between two dates, and every finding it drives cites the document."""

    policy_id: str
    payer_id: str
    plan: str  # "" = every plan of the payer
    rule_id: str
    action: str
    parameters: dict[str, str]
    severity: Severity
    effective_from: date
    effective_to: date
    document: str
    section: str
    url: str
    captured_on: date
    confidence: Confidence
    description: str
    row: int = 0  # where the row is in its file, for errors

    def applies(self, payer_id: str, plan: str | None, on: date) -> bool:
        return (
            self.payer_id == payer_id
            and (not self.plan or self.plan == plan)
            and self.effective_from <= on <= self.effective_to
        )

    def codes(self) -> frozenset[str]:
        return frozenset(self.parameters.get("codes", "").split("|")) - {""}

    # Typed reads of parameters a pack load has checked against the rule's declaration and
    # completed with its defaults (``rules.catalogue.checked_policies``).
    def str_param(self, name: str) -> str:
        return self.parameters[name]

    def int_param(self, name: str) -> int:
        return int(self.parameters[name])

    def decimal_param(self, name: str) -> Decimal:
        return Decimal(self.parameters[name])

    def list_param(self, name: str) -> tuple[str, ...]:
        return tuple(x for x in self.parameters[name].split("|") if x)


def parse_payer_policies(text: str) -> tuple[PayerPolicy, ...]:
    """The rows as written; ``rules.catalogue.checked_policies`` checks them against the rules
    they name. Row numbers count the header as row 1, as a spreadsheet does."""
    out = []
    for row, r in enumerate(csv_rows(text), start=2):
        if not r["document"] or not r["url"]:
            raise PolicyError(
                f"payer_policies.csv row {row} (policy {r['policy_id']}): a written, "
                "published document is required (columns document and url)"
            )
        params = dict(p.split("=", 1) for p in r["parameters"].split(";") if p)
        out.append(
            PayerPolicy(
                policy_id=r["policy_id"],
                payer_id=r["payer_id"],
                plan=r["plan"],
                rule_id=r["rule_id"],
                action=r["action"],
                parameters=params,
                severity=Severity(r["severity"]),
                effective_from=parse_day(r["effective_from"]),
                effective_to=parse_day(r["effective_to"]),
                document=r["document"],
                section=r["section"],
                url=r["url"],
                captured_on=date.fromisoformat(r["captured_on"]),
                confidence=Confidence(r["confidence"]),
                description=r["description"],
                row=row,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PayerOptions:
    medicare: bool
    combine_hydration_intervals: bool
    g0498_for_provider_pumps: bool
    policy_reference: str


def parse_payer_options(text: str) -> dict[str, PayerOptions]:
    return {
        row["payer_id"]: PayerOptions(
            medicare=row["medicare"] == "true",
            combine_hydration_intervals=row["combine_hydration_intervals"] == "true",
            g0498_for_provider_pumps=row["g0498_for_provider_pumps"] == "true",
            policy_reference=row["policy_reference"],
        )
        for row in csv_rows(text)
    }
