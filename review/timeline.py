"""The MAR as a picture: one lane per access site, a bar per infusion, a tick per push or
injection, holds drawn over their bar, each labelled with the codes derived from it.

``layout`` computes the geometry (pure); the claim template draws it as inline SVG.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.claim import Administration, SubmittedClaim, Technique
from schemas.decision import ComputedLine

WIDTH = 960
LABEL_WIDTH = 150
LANE_HEIGHT = 54
TOP = 28
PLOT = WIDTH - LABEL_WIDTH - 20
# Documented pushes are ticks; so is anything undocumented that lasted this long or less.
PUSH_MINUTES = 15
_TICKS = (
    (10, 5),
    (30, 15),
    (60, 30),
    (180, 60),
    (360, 120),
    (24 * 60, 360),
    (10**9, 24 * 60),
)  # fmt: skip  (span up to N minutes: a tick every M minutes)


@dataclass(frozen=True, slots=True)
class Segment:
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Mark:
    admin_id: str
    kind: str  # bar | tick
    x: float
    width: float
    y: float
    label: str  # the codes and units derived from this entry, e.g. "96413×1"
    codes: tuple[str, ...]
    drug: str
    title: str  # tooltip: drug, dose, route, times
    holds: tuple[Segment, ...]
    purpose: str


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    y: float


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    label_width: int
    lanes: tuple[Lane, ...]
    marks: tuple[Mark, ...]
    ticks: tuple[Tick, ...]

    @property
    def empty(self) -> bool:
        return not self.marks


def _lane_of(a: Administration) -> str:
    return a.access_site_id or f"{a.route.value} (no line)"


def _is_bar(a: Administration) -> bool:
    if a.documented_technique in (Technique.PUSH, Technique.INJECTION, Technique.FLUSH):
        return False
    if a.documented_technique is not None:
        return a.stop is not None and a.stop > a.start
    return a.stop is not None and a.stop - a.start > timedelta(minutes=PUSH_MINUTES)


def _units(value: object) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def layout(claim: SubmittedClaim | None, computed: Sequence[ComputedLine]) -> Timeline:
    admins = claim.administrations if claim else ()
    if not admins:
        return Timeline(WIDTH, TOP + 10, LABEL_WIDTH, (), (), ())
    codes_of: dict[str, list[str]] = defaultdict(list)
    for line in computed:
        for admin_id in line.admin_ids:
            codes_of[admin_id].append(f"{line.code}×{_units(line.units)}")
    begin = min(a.start for a in admins)
    end = max(a.stop or a.start for a in admins)
    span = max((end - begin).total_seconds() / 60, 10.0)
    begin -= timedelta(minutes=span * 0.03)
    span *= 1.06

    def x_of(when: datetime) -> float:
        return LABEL_WIDTH + (when - begin).total_seconds() / 60 / span * PLOT

    lane_names = list(dict.fromkeys(_lane_of(a) for a in sorted(admins, key=lambda a: a.start)))
    lanes = tuple(Lane(name, TOP + i * LANE_HEIGHT) for i, name in enumerate(lane_names))
    lane_y = {lane.name: lane.y for lane in lanes}
    marks = []
    for a in sorted(admins, key=lambda a: a.start):
        stop = a.stop or a.start
        bar = _is_bar(a)
        x = x_of(a.start)
        holds = tuple(
            Segment(x_of(h.start), max(x_of(h.stop) - x_of(h.start), 1.0)) for h in a.holds
        )
        minutes = int((stop - a.start).total_seconds() // 60)
        title = (
            f"{a.drug.name} {a.drug.dose} {a.drug.dose_unit} {a.route.value}, "
            f"{a.start:%Y-%m-%d %H:%M}–{stop:%H:%M} ({minutes} min)"
            + (f", {len(a.holds)} hold(s)" if a.holds else "")
        )
        codes = tuple(codes_of.get(a.admin_id, ()))
        marks.append(
            Mark(
                admin_id=a.admin_id, kind="bar" if bar else "tick", x=x,
                width=max(x_of(stop) - x, 2.0) if bar else 0.0, y=lane_y[_lane_of(a)],
                label=" ".join(codes) or "no code", codes=codes, drug=a.drug.name,
                title=title, holds=holds, purpose=a.purpose.value,
            )
        )  # fmt: skip
    step = next(every for limit, every in _TICKS if span <= limit)
    first = begin.replace(minute=0, second=0, microsecond=0)
    ticks = []
    when = first
    multi_day = end.date() != begin.date()
    while when <= begin + timedelta(minutes=span):
        if when >= begin:
            ticks.append(Tick(x_of(when), f"{when:%m-%d %H:%M}" if multi_day else f"{when:%H:%M}"))
        when += timedelta(minutes=step)
    height = TOP + len(lanes) * LANE_HEIGHT + 8
    return Timeline(WIDTH, height, LABEL_WIDTH, lanes, tuple(marks), tuple(ticks))
