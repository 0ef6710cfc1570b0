"""Render the rule catalogue (docs/rules.md) from the rules' own declarations.

    python -m rules.docs      # rewrite docs/rules.md

A test fails while the file is stale, so the published catalogue is the code's.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rules.catalogue import RULES, case_file, module_of
from rules.checks.check import checks_of
from rules.checks.courses import COURSE_CHECKS
from rules.engine import RULE_PACK_VERSION
from rules.pipeline import PIPELINE
from schemas.decision import Citation

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"

_CONFIDENCE = {
    "H": "H — stated by CMS, a MAC or a CPT descriptor: may auto-correct or fail the claim",
    "M": "M — reputable secondary source: suggests; errors go to review",
    "L": "L — informational only",
    "NC": "NC — needs confirmation: never decides, always sends the claim to review",
}


def render() -> str:
    out = [
        "# Rule catalogue",
        "",
        f"Rule pack `core` {RULE_PACK_VERSION}. Generated from the rule declarations by "
        "`python -m rules.docs`; do not edit by hand. Each rule is declared, with its logic, "
        "in the file its entry names, and tested in the file named beside it.",
        "",
        "Each rule's findings carry its id, a message that says what is wrong, why and what to "
        "do, its citations (first the authoritative source: the ICD-10-CM Official Guidelines "
        "section, CMS manual chapter and section, NCCI Policy Manual chapter or edit file, CMS "
        "article or LCD, or CPT guideline by name; then the supporting sources; the coding "
        "specification section last) and its confidence. A finding of "
        "severity `error` sends the claim to `claims.needs-review`; every NC finding is an error. "
        "A correction is applied only when the fix is certain (an H rule removing a submitted "
        "line, or a payer's written policy); the finding that reports it is a warning.",
        "",
        "Families: `ADM` drug-administration coding from the MAR (spec 2), `DX` diagnosis "
        "validity and sequencing (5), `NCCI` and `BND` bundling and unit limits (6.1, 6.2), "
        "`CODE` code validity by quarter and setting, `RO` radiation oncology within a claim "
        "(6.3, 7) and, `RO-CC`, across the claims of a course (6.3, 7; issue 13), `COV` payer "
        "coverage rows (7.3), `PACK` the rule pack's own data releases.",
        "",
        "| id | rule | confidence | declared in |",
        "|---|---|---|---|",
        *(
            f"| [{r.id}](#{r.id.lower()}) | {r.title} | {r.confidence.value} "
            f"| `{module_of(r.id)}` |"
            for r in RULES.values()
        ),
        "",
        "## The claim checks in order",
        "",
        "After the MAR is coded (the `ADM` rules, in the order of the specification's steps), "
        "`rules/pipeline.py` runs the claim checks in this order:",
        "",
        *(
            f"{n}. {c.rule.id} `{c.run.__name__}`"
            for n, c in enumerate((c for s in PIPELINE for c in checks_of(s)), start=1)
        ),
        "",
        "## The course checks in order",
        "",
        "A radiation-oncology claim is also assessed within its patient's course "
        "(`rules/courses.py`, `assess_in_course`; never in `assess` alone): every service of "
        "every claim of the course is read, and the claims whose lines are at fault are told. A "
        "check with an in-claim twin leaves a claim alone when its own lines show the fault (the "
        "twin reports it). How courses are delimited: "
        "[coding-decisions.md](coding-decisions.md#radiation-oncology-courses).",
        "",
        *(
            f"{n}. {c.rule.id} `{c.run.__name__}`"
            + (f" (in-claim twin: {c.twin.id})" if c.twin else "")
            for n, c in enumerate(COURSE_CHECKS, start=1)
        ),
        "",
    ]

    def cite(c: Citation) -> str:
        section = f", {c.section}" if c.section else ""
        return f"[{c.source}]({c.url}){section}" if c.url else f"{c.source}{section}"

    for r in RULES.values():
        authorities = "; ".join(cite(c) for c in r.authority)
        cites = "; ".join(cite(c) for c in r.citations[len(r.authority) :])
        out += [
            f"## {r.id}",
            "",
            f"**{r.title}**",
            "",
            f"- What it does: {r.checks}",
            f"- Why: {r.why}",
            f"- What to do: {r.action}",
            f"- Confidence: {_CONFIDENCE[r.confidence.value]}",
            f"- Default severity: {'error' if r.confidence.value == 'NC' else r.severity.value}",
            f"- Authority: {authorities}",
            f"- Supporting sources and specification: {cites}",
            *([f"- Example: {r.example}"] if r.example else []),
            *(
                f"- Payer policy action `{a.action}`"
                + (
                    ": "
                    + ", ".join(
                        f"`{p.name}` ({p.kind.value}"
                        + (f", default {p.default})" if p.default is not None else ", required)")
                        for p in a.parameters
                    )
                    if a.parameters
                    else ""
                )
                for a in r.payer_actions
            ),
            f"- Declared in `{module_of(r.id)}`; tested in `{case_file(r.id)}`",
            "",
        ]
    return "\n".join(out)


def main() -> int:
    DOC.write_text(render())
    print(DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
