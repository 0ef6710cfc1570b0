"""Validation errors made safe to route and log: where and what kind, never the value."""

from __future__ import annotations

from pydantic import ValidationError

from schemas.decision import ReasonCode, ReviewReason

MAX_REASONS = 20


def _location(loc: tuple[int | str, ...], error_type: str) -> str:
    parts = [str(p) for p in loc]
    # The name of an unexpected field comes from the input, so it is not echoed.
    if error_type == "extra_forbidden" and parts:
        parts[-1] = "<unexpected field>"
    return ".".join(parts) or "<root>"


def review_reasons(exc: ValidationError) -> tuple[ReviewReason, ...]:
    """One reason per validation error (the first ``MAX_REASONS``), without input values.

    Pydantic's ``msg`` describes the expectation ("Input should be a valid date"),
    not the input, as long as models set ``hide_input_in_errors``; our own
    validators raise fixed sentences.
    """
    reasons = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False)[
        :MAX_REASONS
    ]:
        reasons.append(
            ReviewReason(
                code=ReasonCode.SCHEMA_INVALID,
                message=f"{err['type']}: {err['msg']}"[:500],
                location=_location(tuple(err["loc"]), err["type"])[:200],
            )
        )
    return tuple(reasons)
