"""A claim check: one rule's logic over the claim view, kept with the rule it applies.

A check is declared right under its rule, in the rule family's module::

    DX_S8 = Rule("DX-S8", ...)

    @claim_check(DX_S8)
    def adverse_effect_not_first(v: ClaimView) -> None:
        ...
        v.report(DX_S8, ...)

Checks that look at one date or one line at a time are grouped in the pipeline so that
every date (or line) is judged by each of them in turn, in pipeline order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rules.claim_view import ClaimView, Line
from rules.rule import Rule

ClaimLogic = Callable[[ClaimView], None]
DateLogic = Callable[[ClaimView, date, tuple[Line, ...]], None]
LineLogic = Callable[[ClaimView, Line], None]


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    rule: Rule
    run: ClaimLogic
    when: Callable[[ClaimView], bool] | None = None  # the claims the check applies to


@dataclass(frozen=True, slots=True)
class DateCheck:
    rule: Rule
    run: DateLogic


@dataclass(frozen=True, slots=True)
class LineCheck:
    rule: Rule
    run: LineLogic


@dataclass(frozen=True, slots=True)
class EachDate:
    """For each date of service in order: every check of the group on that date's lines."""

    checks: tuple[DateCheck, ...]
    when: Callable[[ClaimView], bool] | None = None


@dataclass(frozen=True, slots=True)
class EachLine:
    """For each line in order: every check of the group on that line."""

    checks: tuple[LineCheck, ...]
    when: Callable[[ClaimView], bool] | None = None


@dataclass(frozen=True, slots=True)
class AsSent:
    """From here on, checks judge the claim as it will be sent: without the submitted lines a
    certain correction removed, so a removed line is not reported again."""


Step = ClaimCheck | EachDate | EachLine | AsSent


def claim_check(
    rule: Rule, when: Callable[[ClaimView], bool] | None = None
) -> Callable[[ClaimLogic], ClaimCheck]:
    def register(logic: ClaimLogic) -> ClaimCheck:
        return ClaimCheck(rule, logic, when)

    return register


def date_check(rule: Rule) -> Callable[[DateLogic], DateCheck]:
    def register(logic: DateLogic) -> DateCheck:
        return DateCheck(rule, logic)

    return register


def line_check(rule: Rule) -> Callable[[LineLogic], LineCheck]:
    def register(logic: LineLogic) -> LineCheck:
        return LineCheck(rule, logic)

    return register


def run_steps(steps: tuple[Step, ...], v: ClaimView) -> ClaimView:
    for step in steps:
        if isinstance(step, ClaimCheck):
            if step.when is None or step.when(v):
                step.run(v)
        elif isinstance(step, EachDate):
            if step.when is not None and not step.when(v):
                continue
            for day, lines in v.by_date.items():
                for d in step.checks:
                    d.run(v, day, lines)
        elif isinstance(step, EachLine):
            if step.when is None or step.when(v):
                for line in v.lines:
                    for c in step.checks:
                        c.run(v, line)
        else:
            v = v.without_removed()
    return v


def checks_of(step: Step) -> tuple[ClaimCheck | DateCheck | LineCheck, ...]:
    if isinstance(step, ClaimCheck):
        return (step,)
    if isinstance(step, EachDate | EachLine):
        return step.checks
    return ()
