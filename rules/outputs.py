"""The engine's computed lines and findings, assembled from parts already validated. Pure.

A claim makes about 13 computed lines and 4 findings. Validating one cost ~32,000 machine
instructions, and ``WireModel.trusted`` ~16,000: it gathers its keywords into a dict, merges
them into the field template and sets pydantic's four attributes from interpreted code
(docs/performance.md). These constructors take every field by name, are compiled with the
engine (a keyword call then builds no dict), and store what pydantic's validation stores: the
fields in their declared order in ``__dict__``, every field set, no extra, no private.
``tests/unit/test_outputs.py`` proves each takes exactly its model's fields, in order, and
makes an instance equal to the validated one that serialises to the same bytes.

The caller vouches for the parts, as for ``WireModel.trusted``: codes and identifiers from
the pack or the validated claim, tuples and ``Decimal`` as validation would make them. Text
is the exception: a pack's own text (a policy's description, a drug's name) reaches reasons
and messages, so text that is not valid ShortText is validated, and refused, as any input
would be.
"""

from __future__ import annotations

from decimal import Decimal

from schemas.base import assembled, is_short_text
from schemas.decision import Citation, ComputedLine, Confidence, Finding, Severity


def computed_line(
    *,
    code: str,
    units: Decimal,
    modifiers: tuple[str, ...],
    date_of_service: str,
    admin_ids: tuple[str, ...],
    rule_ids: tuple[str, ...],
    minutes: int | None,
    reason: str,
) -> ComputedLine:
    fields: dict[str, object] = {
        "code": code,
        "units": units,
        "modifiers": modifiers,
        "date_of_service": date_of_service,
        "admin_ids": admin_ids,
        "rule_ids": rule_ids,
        "minutes": minutes,
        "reason": reason,
    }
    if not is_short_text(reason):
        return ComputedLine(**fields)
    return assembled(ComputedLine, fields)


def finding(
    *,
    rule_id: str,
    severity: Severity,
    message: str,
    citations: tuple[Citation, ...],
    confidence: Confidence,
    line_numbers: tuple[int, ...],
    admin_ids: tuple[str, ...],
    codes: tuple[str, ...],
    suggested_correction: str | None,
) -> Finding:
    fields: dict[str, object] = {
        "rule_id": rule_id,
        "severity": severity,
        "message": message,
        "citations": citations,
        "confidence": confidence,
        "line_numbers": line_numbers,
        "admin_ids": admin_ids,
        "codes": codes,
        "suggested_correction": suggested_correction,
    }
    suggestion_valid = suggested_correction is None or is_short_text(suggested_correction)
    if not (is_short_text(message) and suggestion_valid):
        return Finding(**fields)
    return assembled(Finding, fields)
