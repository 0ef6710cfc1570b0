"""Validation errors made safe to route and log, in plain words: where (the field, as a person
reads it) and what is wrong with it, never the value.

``ReviewReason.location`` keeps the machine path (``service_lines.0.date_of_service``); the
message names the field the way a coder reads it ("Service line 1, date of service") and says
what the field needs ("is not a valid date: write it as YYYY-MM-DD"). The words come from the
error's type and the schema's own limits (pydantic's context: a minimum length, the allowed
values), never from the input; our validators raise fixed sentences. The name of an unexpected
field comes from the input, so it is never echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from schemas.decision import ReasonCode, ReviewReason

MAX_REASONS = 20  # per decision: a review request names at most this many
UNEXPECTED = "<unexpected field>"

# A list of the claim -> how a person names one of its items (shown 1-based).
_ITEMS = {
    "service_lines": "service line",
    "administrations": "MAR entry",
    "diagnoses": "diagnosis",
    "encounters": "encounter",
    "holds": "hold",
    "modifiers": "modifier",
    "diagnosis_pointers": "diagnosis pointer",
}
_FIELD_WORDS = {
    "hcpcs": "HCPCS code",
    "ndc": "NDC",
    "admin_id": "MAR entry id",
    "encounter_id": "encounter id",
    "patient_ref": "patient reference",
    "payer_id": "payer id",
    "bill_type": "bill type",
    "place_of_service": "place of service",
    "dose_unit": "dose unit",
    "documented_technique": "documented technique",
    "access_site_id": "access site id",
    "bag_id": "bag id",
    "order_present": "order present",
    "indication_present": "indication present",
    "separate_site_reason": "separate site reason",
    "primary_reason": "primary reason",
    "lesion_count": "lesion count",
    "planned_hours": "planned hours",
    "supplied_by": "supplied by",
}
# What a field written in the wrong shape should look like (by its name).
_SHAPES = {
    "code": "a HCPCS/CPT code: 5 letters or digits, e.g. 96413 or J9201",
    "hcpcs": "a HCPCS code: 5 letters or digits, e.g. J9201",
    "diagnoses": "an ICD-10-CM code, e.g. C50.911 or Z51.11",
    "modifiers": "a modifier: 2 letters or digits, e.g. 59 or XS",
    "place_of_service": "a place-of-service code: 2 digits, e.g. 11 or 22",
    "bill_type": "a bill type: 3 digits with an optional leading 0, e.g. 0131",
    "revenue_code": "a revenue code: 4 digits, e.g. 0636",
    "ndc": "an NDC: 10 or 11 digits in 4-4-2, 5-3-2 or 5-4-1 groups, e.g. 12345-6789-01",
}
_IDENTIFIER = (
    "an identifier: letters, digits and . _ : - only, starting with a letter or digit, "
    "at most 64 characters"
)
_DATE = "is not a valid date: write it as YYYY-MM-DD"
_INSTANT = (
    "is not a valid date and time: write it with its UTC offset, e.g. 2026-05-04T09:00:00-05:00"
)


# A plain() phrase that reads on from the field's name ("... is required but missing").
_PREDICATES = ("is ", "must ", "has ", "holds ")


def _label(name: str) -> str:
    return _FIELD_WORDS.get(name, name.replace("_", " "))


def _where(loc: tuple[int | str, ...]) -> str:
    """The field as a person reads it: ("administrations", 2, "drug", "dose") ->
    "MAR entry 3, drug, dose"."""
    words: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            continue
        if "[" in part or part.startswith("function-"):  # pydantic's validator tags
            continue
        following = loc[i + 1] if i + 1 < len(loc) else None
        if part in _ITEMS and isinstance(following, int):
            words.append(f"{_ITEMS[part]} {following + 1}")
        else:
            words.append(_label(part))
    text = ", ".join(words) or "the claim"
    return text[0].upper() + text[1:]


def _field(loc: tuple[int | str, ...]) -> str:
    """The innermost named field: what decides the shape a value must have."""
    names = [p for p in loc if isinstance(p, str) and "[" not in p]
    return names[-1] if names else ""


def _shape(loc: tuple[int | str, ...]) -> str:
    field = _field(loc)
    if field in _SHAPES:
        return _SHAPES[field]
    if field.endswith("_id") or field in {"patient_ref", "claim_id", "plan"}:
        return _IDENTIFIER
    return "the format the claim schema defines"


def _items(n: Any) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def plain(kind: str, loc: tuple[int | str, ...], ctx: Mapping[str, Any], msg: str) -> str:
    """What is wrong with the field, in plain words (no value from the input)."""
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "holds a field the claim format does not define: remove it"
    if kind == "string_pattern_mismatch":
        return f"is not {_shape(loc)}"
    if kind == "string_too_short":
        return (
            "is empty"
            if ctx.get("min_length") == 1
            else (f"is shorter than {ctx.get('min_length')} characters")
        )
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    if kind == "too_short":
        if _field(loc) == "diagnoses":
            return f"the claim lists none; at least {ctx.get('min_length')} is required"
        return f"has fewer than {_items(ctx.get('min_length'))}; at least that many are required"
    if kind == "too_long":
        return f"has more than {_items(ctx.get('max_length'))}, the most the claim format allows"
    if kind in {"enum", "literal_error"}:
        return f"must be one of {ctx.get('expected')}"
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "must be a whole number"
    if kind in {"decimal_parsing", "decimal_type", "float_parsing", "float_type"}:
        return "must be a number"
    if kind == "decimal_max_places":
        return f"has more than {ctx.get('decimal_places')} decimal places"
    if kind in {"decimal_max_digits", "decimal_whole_digits"}:
        return "has too many digits"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        limit = next(iter(ctx.values()), "")
        words = {"greater_than": "greater than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]  # fmt: skip
        return f"must be {words} {limit}"
    if kind in {"date_parsing", "date_type", "date_from_datetime_parsing",
                "date_from_datetime_inexact"}:  # fmt: skip
        return _DATE
    if kind in {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}:
        return _INSTANT
    if kind == "timezone_aware":
        return "has no UTC offset: write the time with its offset, e.g. 2026-05-04T09:00:00-05:00"
    if kind in {"bool_parsing", "bool_type"}:
        return "must be true or false"
    if kind in {"string_type", "string_unicode"}:
        return "must be text"
    if kind in {"list_type", "tuple_type"}:
        return "must be a list"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "must be an object"
    if kind in {"value_error", "assertion_error"}:
        # Our validators raise fixed sentences (no value); pydantic prefixes their kind.
        sentence = msg.split(", ", 1)[1] if msg.startswith(("Value error", "Assertion")) else msg
        return sentence.rstrip(".")
    return "is not valid for the claim format"


def review_reasons(exc: ValidationError) -> tuple[ReviewReason, ...]:
    """One reason per validation error (the first ``MAX_REASONS``), without input values.

    ``location`` is the machine path; ``message`` says, in plain words, which field and what
    is wrong with it."""
    reasons = []
    for err in exc.errors(include_url=False, include_input=False, include_context=True)[
        :MAX_REASONS
    ]:
        loc = tuple(err["loc"])
        kind = err["type"]
        where = _where(loc)
        if kind == "extra_forbidden" and loc:
            # The name of an unexpected field comes from the input: never echoed.
            where = _where(loc[:-1]) if loc[:-1] else "The claim"
            loc = (*loc[:-1], UNEXPECTED)
        what = plain(kind, loc, err.get("ctx") or {}, str(err["msg"]))
        joined = f"{where} {what}" if what.startswith(_PREDICATES) else f"{where}: {what}"
        reasons.append(
            ReviewReason(
                code=ReasonCode.SCHEMA_INVALID,
                message=f"{joined}."[:500],
                location=(".".join(str(p) for p in loc) or "<root>")[:200],
            )
        )
    return tuple(reasons)
