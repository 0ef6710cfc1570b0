"""The engine's assembled outputs (``rules.outputs``) are the validated models, byte for byte."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from rules import outputs
from schemas.decision import Citation, ComputedLine, Confidence, Finding, Severity

LINES: list[dict[str, Any]] = [
    {
        "code": "96413",
        "units": Decimal(1),
        "modifiers": (),
        "date_of_service": "2026-04-13",
        "admin_ids": ("A1", "A2"),
        "rule_ids": ("ADM-D1", "ADM-H3"),
        "minutes": 61,
        "reason": "initial: chemotherapy infusion of cisplatin, 61 min",
    },
    {
        "code": "96415",
        "units": Decimal(3),
        "modifiers": ("XS",),
        "date_of_service": "2026-12-31",
        "admin_ids": (),
        "rule_ids": (),
        "minutes": None,
        "reason": "each additional hour: 3 h 10 min beyond the first",
    },
]
FINDINGS: list[dict[str, Any]] = [
    {
        "rule_id": "ADM-S1",
        "severity": Severity.ERROR,
        "message": "J9045 on 2026-04-13: 2 unit(s) billed, 5 expected.",
        "citations": (Citation(source="S1", section="2.10"), Citation(source="HCPCS", url=None)),
        "confidence": Confidence.MEDIUM,
        "line_numbers": (3, 4),
        "admin_ids": ("A1",),
        "codes": ("J9045",),
        "suggested_correction": "bill J9045 x 5 on 2026-04-13",
    },
    {
        "rule_id": "RAD-C2",
        "severity": Severity.INFO,
        "message": "m",
        "citations": (),
        "confidence": Confidence.NEEDS_CONFIRMATION,
        "line_numbers": (),
        "admin_ids": (),
        "codes": (),
        "suggested_correction": None,
    },
]
CASES: list[tuple[Callable[..., BaseModel], type[BaseModel], dict[str, Any]]] = [
    *((outputs.computed_line, ComputedLine, line) for line in LINES),
    *((outputs.finding, Finding, finding) for finding in FINDINGS),
]


@pytest.mark.parametrize(
    ("make", "model"), [(outputs.computed_line, ComputedLine), (outputs.finding, Finding)]
)
def test_each_constructor_takes_exactly_its_models_fields_in_order(
    make: Callable[..., BaseModel], model: type[BaseModel]
) -> None:
    """A field added to the model without the constructor (or out of order, which would
    change the serialised bytes) fails here, not in a decision."""
    params = inspect.signature(make).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    assert [p.name for p in params] == list(model.model_fields)


@pytest.mark.parametrize(("make", "model", "fields"), CASES)
def test_an_assembled_output_is_the_validated_model(
    make: Callable[..., BaseModel], model: type[BaseModel], fields: dict[str, Any]
) -> None:
    made, validated = make(**fields), model(**fields)
    assert type(made) is model
    assert made == validated
    assert made.model_dump_json() == validated.model_dump_json()
    assert made.model_fields_set == validated.model_fields_set
    assert made.model_extra is None and made.__pydantic_private__ is None
    assert repr(made) == repr(validated)
    with pytest.raises(ValidationError):  # frozen, as validated instances are
        made.__setattr__(next(iter(fields)), None)


@pytest.mark.parametrize(
    ("make", "fields", "text"),
    [
        (outputs.computed_line, LINES[0], {"reason": "cis\u202eplatin"}),
        (outputs.finding, FINDINGS[0], {"message": "policy text \u200f reordered"}),
        (outputs.finding, FINDINGS[0], {"suggested_correction": "bill \x07 96360"}),
        (outputs.finding, FINDINGS[1], {"message": ""}),
    ],
)
def test_text_that_is_not_valid_is_validated_and_refused(
    make: Callable[..., BaseModel], fields: dict[str, Any], text: dict[str, str]
) -> None:
    """A pack's own text (a drug's name, a policy's description) reaches reasons and
    messages: text that is not valid ShortText is refused as any input would be."""
    with pytest.raises(ValidationError):
        make(**{**fields, **text})
