"""Why an input could not be read: a location and a fixed sentence, never a value.

Every parser in this package reports problems as ``LocatedReason``s. The message is
written here (or is a pydantic expectation, never its input), so a reason is safe to
log, to put in a dead-letter header and to show a coder: 837s and FHIR Bundles carry
names, dates of birth, member ids and addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.decision import ReasonCode, ReviewReason
from schemas.errors import MAX_REASONS

# pydantic error types whose message states only the expectation (type, length, choices,
# pattern), never the input. Any other type (a custom validator's ``value_error`` above
# all: libraries put the offending value in those) gets a fixed sentence instead.
_SAFE_TYPES = frozenset(
    {
        "missing",
        "string_type",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "enum",
        "literal_error",
        "int_type",
        "int_parsing",
        "decimal_type",
        "decimal_parsing",
        "decimal_max_digits",
        "decimal_max_places",
        "decimal_whole_digits",
        "float_parsing",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "too_long",
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "timezone_aware",
        "bool_type",
        "bool_parsing",
        "list_type",
        "tuple_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "extra_forbidden",
        "union_tag_invalid",
        "union_tag_not_found",
    }
)


@dataclass(frozen=True, slots=True)
class LocatedReason:
    """Where (an 837 loop/segment/element or a FHIR path) and what kind of problem."""

    location: str
    message: str

    def review_reason(self, code: ReasonCode = ReasonCode.SCHEMA_INVALID) -> ReviewReason:
        return ReviewReason(code=code, message=self.message[:500], location=self.location[:200])


class IngestError(ValueError):
    """An input that cannot be read at all. ``str()`` names locations and kinds only."""

    def __init__(self, summary: str, reasons: Iterable[LocatedReason]) -> None:
        self.reasons = tuple(reasons)[:MAX_REASONS]
        self.summary = summary
        first = f": {self.reasons[0].location}: {self.reasons[0].message}" if self.reasons else ""
        super().__init__(f"{summary}{first}")


def safe_message(err: Any) -> str:
    """A pydantic error's message if it cannot carry the input, else a fixed sentence."""
    kind = str(err["type"])
    if kind in _SAFE_TYPES:
        return f"{kind}: {err['msg']}"
    return f"{kind}: the value fails a check of the specification"


def own_message(loc: tuple[int | str, ...], err: Any) -> str:
    """For the v1 schemas' own errors: their models hide inputs and their validators raise
    fixed sentences (schemas/errors.py), so the message is safe as it is."""
    return f"{err['type']}: {err['msg']}"


def validation_reasons(
    exc: ValidationError,
    locate: Callable[[tuple[int | str, ...]], str],
    explain: Callable[[tuple[int | str, ...], Any], str] | None = None,
) -> tuple[LocatedReason, ...]:
    """One reason per error: ``locate`` turns pydantic's path into the input's location,
    ``explain`` may replace the message (it must not include the input either)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False)[
        :MAX_REASONS
    ]:
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden" and loc:
            loc = (*loc[:-1], "<unexpected field>")  # the name comes from the input
        message = explain(loc, err) if explain is not None else safe_message(err)
        out.append(LocatedReason(locate(loc)[:200], message[:500]))
    return tuple(out)
