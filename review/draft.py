"""The coder's working copy of a claim in review, and the new version it resubmits as.

The draft starts as the claim under review (its lines and diagnoses) and takes the
version's review actions in order: an accepted correction is applied as the engine
proposed it, an edit replaces the lines and diagnoses. Pure: no database, no Kafka.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from review.events import ActionKind, ReviewAction
from schemas.claim import ServiceLine, SubmittedClaim
from schemas.decision import Correction, CorrectionAction
from schemas.errors import review_reasons


@dataclass(frozen=True, slots=True)
class Draft:
    service_lines: tuple[ServiceLine, ...]
    diagnoses: tuple[str, ...]
    accepted: tuple[Correction, ...] = ()
    edited: bool = False

    def differs_from(self, claim: SubmittedClaim) -> bool:
        return (self.service_lines, self.diagnoses) != (claim.service_lines, claim.diagnoses)


class EditError(ValueError):
    """An edit or resubmission that does not make a valid claim: located reasons, no values."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def start(claim: SubmittedClaim) -> Draft:
    return Draft(claim.service_lines, tuple(claim.diagnoses))


def apply_correction(draft: Draft, correction: Correction) -> Draft:
    if correction.action is CorrectionAction.REMOVE_LINE:
        gone = set(correction.line_numbers)
        lines = tuple(line for line in draft.service_lines if line.line_number not in gone)
        return Draft(lines, draft.diagnoses, (*draft.accepted, correction), draft.edited)
    return Draft(
        draft.service_lines, tuple(correction.diagnoses), (*draft.accepted, correction),
        draft.edited,
    )  # fmt: skip


def draft_of(claim: SubmittedClaim, actions: Iterable[ReviewAction]) -> Draft:
    """The draft after the version's actions (in log order)."""
    draft = start(claim)
    for action in actions:
        if action.claim_version != claim.claim_version:
            continue
        if action.kind is ActionKind.ACCEPTED_CORRECTION and action.correction is not None:
            draft = apply_correction(draft, action.correction)
        elif action.kind is ActionKind.EDITED:
            draft = Draft(
                action.service_lines if action.service_lines is not None else draft.service_lines,
                action.diagnoses if action.diagnoses is not None else draft.diagnoses,
                draft.accepted,
                edited=True,
            )
    return draft


_SPLIT = re.compile(r"[\s,;]+")


def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text.strip().upper()) if w]


def parse_edit(
    draft: Draft, form: Mapping[str, Sequence[str]]
) -> tuple[tuple[ServiceLine, ...], tuple[str, ...]]:
    """Lines and diagnoses from the edit form; ``EditError`` names each bad field by place.

    The form has one row per line (``line_number``, ``code``, ``modifiers``, ``units``,
    ``date_of_service``; ``remove`` lists line numbers to drop) and a blank row that
    adds a line when its code is filled; ``diagnoses`` in billing order. Revenue codes
    and diagnosis pointers of existing lines are kept.
    """
    existing = {line.line_number: line for line in draft.service_lines}
    columns = ("line_number", "code", "modifiers", "units", "date_of_service")
    rows = list(zip(*(form.get(c, ()) for c in columns), strict=False))
    removed = {int(n) for n in form.get("remove", ()) if n.isdigit()}
    problems: list[str] = []
    lines: list[ServiceLine] = []
    next_number = max(existing, default=0) + 1
    for index, (number, code, modifiers, units, dos) in enumerate(rows, start=1):
        if not number.strip() and not code.strip():
            continue  # the blank row, left blank
        if number.strip().isdigit() and int(number) in removed:
            continue
        if number.strip().isdigit():
            line_number = int(number)
        else:
            line_number, next_number = next_number, next_number + 1
        kept = existing.get(line_number)
        try:
            lines.append(
                ServiceLine.model_validate(
                    {
                        "line_number": line_number,
                        "code": code.strip().upper(),
                        "modifiers": _words(modifiers),
                        "units": units.strip(),
                        "date_of_service": dos.strip(),
                        "revenue_code": kept.revenue_code if kept else None,
                        "diagnosis_pointers": kept.diagnosis_pointers if kept else (),
                    }
                )
            )
        except ValidationError as exc:
            problems += [f"line {index} {r.location}: {r.message}" for r in review_reasons(exc)]
    diagnoses = tuple(_words(" ".join(form.get("diagnoses", ()))))
    if problems:
        raise EditError(problems)
    return tuple(lines), diagnoses


def resubmission(claim: SubmittedClaim, draft: Draft) -> SubmittedClaim:
    """The claim as the draft has it, as version ``claim_version + 1``; validated whole."""
    doc = claim.model_dump(mode="json")
    doc.update(
        claim_version=claim.claim_version + 1,
        service_lines=[line.model_dump(mode="json") for line in draft.service_lines],
        diagnoses=list(draft.diagnoses),
    )
    try:
        return SubmittedClaim.model_validate(doc)
    except ValidationError as exc:
        raise EditError([f"{r.location}: {r.message}" for r in review_reasons(exc)]) from None


def check(claim: SubmittedClaim, lines: Sequence[ServiceLine], diagnoses: Sequence[str]) -> None:
    """Raise ``EditError`` if these lines and diagnoses would not make a valid claim."""
    resubmission(claim, Draft(tuple(lines), tuple(diagnoses)))
