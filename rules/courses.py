"""A patient's radiation-oncology courses across claims (issue 13). Pure: no I/O, no clock.

The state (``schemas.course.PatientCourses``) keeps what each claim version contributed;
courses are delimited from those services every time, so the same contributions give the
same courses, course ids and findings whatever order the claims arrived in:

* services are taken in date order; a service more than ``COURSE_GAP_DAYS`` after the
  previous one starts a new course, and so does a day with clinical treatment planning
  (77261-77263) once the current course has delivered a fraction on an earlier day;
* a course's id is the patient reference and its first date of service.

``assess_in_course`` adds a claim's contribution (a newer version replaces the older one),
runs the course checks (``rules.checks.courses``) on the courses the claim changed and returns
the claim's assessment with its course findings, the new state, and a correction for every
other claim whose course findings changed. A claim *shared* with others (a course of it has
other claims on record) loses the in-claim findings that count its share as the whole course
(``REPLACED_IN_CLAIM``: RO-C1, RO-W1, RO-W2, RO-RB11, RO-Q14); their course twins judge it, and
RO-CC16 says so. A claim alone in its courses keeps them, and the twins stay quiet for it.
Each claim's record keeps those in-claim findings whether told or not, so what a claim is told
(``told``) follows from the claims on record alone, whatever order they arrived in.

``expire`` compacts courses no claim can still reach (``SETTLE_DAYS``) and drops those past
retention; ``timeline`` shows each course to people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from rules.checks.courses import (
    COURSE_CHECKS,
    REPLACED_IN_CLAIM,
    RO_CC0,
    RO_CC16,
    run_course_checks,
)
from rules.checks.radiation import weekly_units
from rules.codegroups import (
    CLINICAL_PLANNING,
    DOSIMETRIC_PLANNING,
    RADIATION,
    SIMULATION,
)
from rules.course_scope import (
    BOTH,
    FRACTION_CODES,
    CourseScope,
    Service,
    claim_parts,
    fractions_by_date,
    line_parts,
    service_order,
)
from rules.engine import Assessment
from rules.pack import RulePack
from schemas.claim import SubmittedClaim
from schemas.course import (
    BilledUnits,
    BillingPart,
    ClaimRef,
    ClosedCourse,
    CourseClaim,
    CourseCorrection,
    CourseService,
    CourseView,
    PatientCourses,
    PhaseSeen,
)
from schemas.decision import Finding

# No radiation-oncology service for longer than this closes a course (a treatment break of
# a week or two stays within it; a new course after a month apart is a new plan).
COURSE_GAP_DAYS = 30
_GAP = timedelta(days=COURSE_GAP_DAYS)
# A course is compacted (its findings dropped, never corrected again) only once its claims
# can no longer arrive: claims reach the store weeks or months after the services they bill,
# and Medicare takes them up to twelve months after the date of service (42 CFR 424.44,
# timely filing). Until then a late claim still corrects its course. Counted from the day
# the claim is decided, never from the wall clock inside a rule.
SETTLE_DAYS = 365
_SETTLE = timedelta(days=SETTLE_DAYS)

# Radiation oncology (77261-77799, the freestanding G-codes G6001-G6017) and CT guidance 77014,
# which is on the IMRT planning list.
COURSE_CODES = RADIATION | {"77014"}

__all__ = [
    "COURSE_CODES",
    "COURSE_GAP_DAYS",
    "SETTLE_DAYS",
    "InCourse",
    "assess_in_course",
    "course_facts",
    "delimit",
    "expire",
    "timeline",
    "told",
]


def course_facts(claim: SubmittedClaim) -> CourseClaim | None:
    """The claim's contribution to its patient's courses: its radiation-oncology lines as
    billed. None when it has none."""
    services = tuple(
        CourseService(
            line_number=s.line_number,
            code=s.code,
            units=s.units,
            modifiers=s.modifiers,
            date_of_service=s.date_of_service,
        )
        for s in claim.service_lines
        if s.code in COURSE_CODES
    )
    if not services:
        return None
    return CourseClaim(
        claim_id=claim.claim_id,
        claim_version=claim.claim_version,
        claim_type=claim.claim_type,
        setting=claim.setting,
        place_of_service=claim.place_of_service,
        payer_id=claim.payer.payer_id,
        plan=claim.payer.plan,
        diagnoses=claim.diagnoses,
        services=services,
    )


# -- delimiting courses ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Course:
    """One delimited course: its id and its services in course order."""

    course_id: str
    services: tuple[Service, ...]
    claim_ids: frozenset[str]

    @property
    def first(self) -> date:
        return self.services[0].dos

    @property
    def last(self) -> date:
        return self.services[-1].dos


def _course(course_id: str, services: tuple[Service, ...]) -> Course:
    return Course(course_id, services, frozenset(s.claim_id for s in services))


def services_of(claim: CourseClaim) -> list[Service]:
    default = claim_parts(claim)
    return [
        Service(
            claim.claim_id,
            x.line_number,
            x.code,
            int(x.units),
            x.date_of_service,
            line_parts(x.modifiers, default) if x.modifiers else default,
        )
        for x in claim.services
    ]


def course_id(patient_ref: str, first: date) -> str:
    return f"{patient_ref}:{first.isoformat()}"


def delimit(patient_ref: str, claims: Iterable[CourseClaim]) -> tuple[Course, ...]:
    """The courses these claims' services make, in date order (see the module's account)."""
    services = [s for c in claims for s in services_of(c)]
    services.sort(key=service_order)
    courses: list[list[Service]] = []
    last: date | None = None
    delivered: date | None = None  # the current course's first delivery
    i, n = 0, len(services)
    while i < n:
        day, j = services[i].dos, i
        planning = delivery = False
        while j < n and services[j].dos == day:
            planning = planning or services[j].code in CLINICAL_PLANNING
            delivery = delivery or services[j].code in FRACTION_CODES
            j += 1
        if (
            last is None
            or day - last > _GAP
            or (planning and delivered is not None and delivered < day)
        ):
            courses.append([])
            delivered = None
        courses[-1] += services[i:j]
        last = day
        if delivered is None and delivery:
            delivered = day
        i = j
    return tuple(_course(course_id(patient_ref, ss[0].dos), tuple(ss)) for ss in courses)


def _groups(courses: Sequence[Course]) -> list[list[Course]]:
    """Courses joined by a claim that has services in each (a claim spanning two courses):
    such courses close, compact and expire together."""
    parent = list(range(len(courses)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, course in enumerate(courses):
        for cid in course.claim_ids:
            if cid in owner:
                parent[root(i)] = root(owner[cid])
            else:
                owner[cid] = i
    groups: dict[int, list[Course]] = defaultdict(list)
    for i, course in enumerate(courses):
        groups[root(i)].append(course)
    return sorted(groups.values(), key=lambda g: g[0].first)


# -- checking a claim within its course --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InCourse:
    assessment: Assessment
    state: PatientCourses | None
    corrections: tuple[CourseCorrection, ...]


_TWINNED = tuple(c for c in COURSE_CHECKS if c.twin is not None)
# Twins whose in-claim rule holds for any share of a course (a claim's own units are a lower
# bound of the course's): the claim's own finding stands, the course check stays quiet for it.
_KEPT_TWINS = tuple(c for c in _TWINNED if not c.replaces)
_KEPT_IDS = frozenset(c.rule.id for c in _KEPT_TWINS)
# Twins that judge a shared claim instead of its in-claim rule (quiet for a claim alone).
_REPLACING_IDS = frozenset(c.rule.id for c in _TWINNED if c.replaces)


def _scope(course: Course, claims: dict[str, CourseClaim], pack: RulePack) -> CourseScope:
    return CourseScope(
        course.course_id,
        {cid: claims[cid] for cid in sorted(course.claim_ids)},
        course.services,
        pack,
    )


def course_findings(
    course: Course, claims: dict[str, CourseClaim], pack: RulePack
) -> dict[str, list[Finding]]:
    """Each claim's findings in one course. A check with a kept in-claim twin leaves a claim
    alone when the claim's own lines show the fault (the twin reports it in the claim's
    decision). Replacing twins' findings are all here: ``_course_part`` drops them for a claim
    that is not shared."""
    scope = _scope(course, claims, pack)
    run_course_checks(scope)
    if len(scope.claims) == 1:
        return {
            cid: [f for f in fs if f.rule_id not in _KEPT_IDS] for cid, fs in scope.findings.items()
        }
    for cid, found in scope.findings.items():
        fired = {f.rule_id for f in found} & _KEPT_IDS
        if not fired:
            continue
        own = _course(course.course_id, tuple(s for s in course.services if s.claim_id == cid))
        alone = _scope(own, claims, pack)
        run_course_checks(alone, tuple(c for c in _KEPT_TWINS if c.rule.id in fired))
        shown = {f.rule_id for f in alone.findings.get(cid, ())}
        if shown:
            scope.findings[cid] = [f for f in found if f.rule_id not in shown]
    return scope.findings


def _find(state: PatientCourses, claim_id: str) -> CourseClaim | None:
    for c in state.claims:
        if c.claim_id == claim_id:
            return c
    for course in state.closed:
        for c in course.claims:
            if c.claim_id == claim_id:
                return c
    return None


def _touches(course: ClosedCourse, claim_id: str, facts: CourseClaim | None) -> bool:
    if any(c.claim_id == claim_id for c in course.claims):
        return True
    if facts is None:
        return False
    days = [s.date_of_service for s in facts.services]
    return min(days) - course.last_date <= _GAP and course.first_date - max(days) <= _GAP


def assess_in_course(
    claim: SubmittedClaim,
    assessment: Assessment,
    pack: RulePack,
    state: PatientCourses | None,
) -> InCourse:
    """The claim assessed within its patient's courses (see the module's account).

    ``state`` in the result is None only when the claim takes no part in a course and there
    was no state; when a new version withdraws the patient's last contribution it is an empty
    ``PatientCourses`` (``expire`` turns that into None, a tombstone)."""
    facts = course_facts(claim)
    if state is None:
        if facts is None:
            return InCourse(assessment, None, ())
        state = PatientCourses(patient_ref=claim.patient_ref)
    recorded = _find(state, claim.claim_id)
    if recorded is not None and claim.claim_version < recorded.claim_version:
        stale = RO_CC0.finding(
            f"Version {claim.claim_version} of this claim is older than version "
            f"{recorded.claim_version}, which the course already counts: the course is "
            "unchanged.",
            codes=sorted({s.code for s in facts.services}) if facts else (),
        )
        return InCourse(replace(assessment, findings=(*assessment.findings, stale)), state, ())
    if facts is None and recorded is None:
        return InCourse(assessment, state, ())

    near = [_touches(c, claim.claim_id, facts) for c in state.closed]
    touched = [c for c, n in zip(state.closed, near, strict=True) if n]
    kept_closed = tuple(c for c, n in zip(state.closed, near, strict=True) if not n)
    pool: dict[str, CourseClaim] = {
        c.claim_id: c for c in (*state.claims, *(c for t in touched for c in t.claims))
    }
    pool.pop(claim.claim_id, None)
    if facts is not None:
        pool[claim.claim_id] = facts
    previous = delimit(state.patient_ref, [*state.claims, *(c for t in touched for c in t.claims)])
    before = {(c.course_id, c.claim_ids) for c in previous}
    shared_before = _shared(previous)
    courses = delimit(state.patient_ref, pool.values())
    shared = _shared(courses)

    # Only the courses this claim changed (and the courses sharing a claim with them) are
    # judged again: any other course has the same services as when its findings were recorded.
    found: dict[str, list[Finding]] = defaultdict(list)
    first_course: dict[str, str] = {}
    judged: set[str] = set()
    for group in _groups(courses):
        if all(
            (c.course_id, c.claim_ids) in before and claim.claim_id not in c.claim_ids
            for c in group
        ):
            continue
        for course in sorted(group, key=lambda c: c.first):
            judged |= course.claim_ids
            for cid in sorted(course.claim_ids):
                first_course.setdefault(cid, course.course_id)
            if all(pool[cid].compacted for cid in course.claim_ids):
                continue
            for cid, fs in course_findings(course, pool, pack).items():
                found[cid] += fs

    corrections: list[CourseCorrection] = []
    for cid, c in sorted(pool.items()):
        if cid not in judged:
            continue
        course_part = _course_part(found.get(cid, ()), cid in shared)
        if cid == claim.claim_id:
            kept = _in_claim(assessment.findings)
            pool[cid] = c.model_copy(update={"findings": (*kept, *course_part)})
        elif not c.compacted:
            record = (*_in_claim(c.findings), *course_part)
            was = _told(c.findings, cid in shared_before)
            now = _told(record, cid in shared)
            if now != was:
                corrections.append(
                    CourseCorrection(
                        claim_id=cid,
                        claim_version=c.claim_version,
                        course_id=first_course[cid],
                        before=was,
                        after=now,
                        trigger_claim_id=claim.claim_id,
                        trigger_claim_version=claim.claim_version,
                    )
                )
            if record != c.findings:
                pool[cid] = c.model_copy(update={"findings": record})

    live, closed = _split_closed(courses, pool)
    new_state = PatientCourses(
        patient_ref=state.patient_ref,
        claims=tuple(pool[cid] for cid in sorted(live)),
        closed=tuple(sorted((*kept_closed, *closed), key=lambda c: c.first_date)),
    )
    if facts is None:
        return InCourse(assessment, new_state, tuple(corrections))
    own = _course_part(found.get(claim.claim_id, ()), claim.claim_id in shared)
    if claim.claim_id in shared:
        dropped = _in_claim(assessment.findings)
        kept = tuple(f for f in assessment.findings if f.rule_id not in REPLACED_IN_CLAIM)
        note = (_left_to_course(dropped, courses, claim.claim_id),) if dropped else ()
        merged = replace(assessment, findings=(*kept, *own, *note))
    else:
        merged = replace(assessment, findings=(*assessment.findings, *own)) if own else assessment
    return InCourse(merged, new_state, tuple(corrections))


def _shared(courses: Iterable[Course]) -> set[str]:
    """The claims with a course that has other claims on record."""
    return {cid for c in courses if len(c.claim_ids) > 1 for cid in c.claim_ids}


def _in_claim(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.rule_id in REPLACED_IN_CLAIM)


def _course_part(found: Iterable[Finding], shared: bool) -> tuple[Finding, ...]:
    """A claim's course findings: a claim alone is not told the replacing twins' findings
    (its in-claim findings stand)."""
    return tuple(f for f in found if shared or f.rule_id not in _REPLACING_IDS)


def _told(record: tuple[Finding, ...], shared: bool) -> tuple[Finding, ...]:
    """What a claim's record says it was told: a shared claim not its in-claim findings."""
    return tuple(f for f in record if f.rule_id not in REPLACED_IN_CLAIM) if shared else record


def told(state: PatientCourses) -> dict[str, tuple[Finding, ...]]:
    """Each open course claim's findings as last told to it (in its decision or a correction):
    its course findings, and its own RO-C1/W1/W2/RB11/Q14 findings while it is alone."""
    shared = _shared(delimit(state.patient_ref, state.claims))
    return {c.claim_id: _told(c.findings, c.claim_id in shared) for c in state.claims}


def _left_to_course(
    dropped: Sequence[Finding], courses: Sequence[Course], claim_id: str
) -> Finding:
    others = {cid for c in courses if claim_id in c.claim_ids for cid in c.claim_ids} - {claim_id}
    rules = sorted({f.rule_id for f in dropped})
    return RO_CC16.finding(
        f"{', '.join(rules)} on this claim's lines alone {'is' if len(rules) == 1 else 'are'} "
        f"not reported: its course has {len(others)} other claim(s) on record, and the course "
        "checks judge the course's fractions and units as a whole.",
        line_numbers=sorted({n for f in dropped for n in f.line_numbers}),
        codes=sorted({code for f in dropped for code in f.codes}),
    )


def _split_closed(
    courses: Sequence[Course], pool: dict[str, CourseClaim]
) -> tuple[set[str], list[ClosedCourse]]:
    """Claims that stay live, and the groups of courses made only of compacted claims (a
    closed course a claim came near without joining it), closed again."""
    live: set[str] = set()
    closed: list[ClosedCourse] = []
    for group in _groups(courses):
        ids = {cid for course in group for cid in course.claim_ids}
        if all(pool[cid].compacted for cid in ids):
            closed.append(_closed(group, [pool[cid] for cid in sorted(ids)]))
        else:
            live |= ids
    return live, closed


def _closed(group: Sequence[Course], claims: Sequence[CourseClaim]) -> ClosedCourse:
    return ClosedCourse(
        course_id=group[0].course_id,
        first_date=min(c.first for c in group),
        last_date=max(c.last for c in group),
        claims=tuple(claims),
    )


# -- bounded state -----------------------------------------------------------------------------


def compact(claim: CourseClaim) -> CourseClaim:
    """A closed course's claim: its lines folded by date, code and billing part (modifiers 26
    and TC kept, others dropped), its findings dropped; it still counts if a late claim joins
    the course."""
    if claim.compacted:
        return claim
    units: dict[tuple[date, str, tuple[str, ...]], Decimal] = defaultdict(Decimal)
    for s in claim.services:
        part = tuple(sorted(m for m in s.modifiers if m in ("26", "TC")))
        units[(s.date_of_service, s.code, part)] += s.units
    services = tuple(
        CourseService(line_number=n, code=code, units=u, modifiers=mods, date_of_service=day)
        for n, ((day, code, mods), u) in enumerate(sorted(units.items()), start=1)
    )
    return claim.model_copy(update={"services": services, "findings": (), "compacted": True})


def expire(state: PatientCourses, as_of: date, retention_days: int) -> PatientCourses | None:
    """Courses whose last service is more than ``SETTLE_DAYS`` before ``as_of`` compacted;
    courses whose last service is more than ``retention_days`` before ``as_of`` dropped. None
    when nothing is left (a tombstone)."""
    drop_before = as_of - timedelta(days=retention_days)
    closed = [c for c in state.closed if c.last_date >= drop_before]
    live: list[CourseClaim] = []
    by_id = {c.claim_id: c for c in state.claims}
    for group in _groups(delimit(state.patient_ref, state.claims)):
        ids = sorted({cid for course in group for cid in course.claim_ids})
        last = max(course.last for course in group)
        if last < drop_before:
            continue
        if as_of - last > _SETTLE:
            closed.append(_closed(group, [compact(by_id[cid]) for cid in ids]))
        else:
            live += [by_id[cid] for cid in ids]
    if not live and not closed:
        return None
    return PatientCourses(
        patient_ref=state.patient_ref,
        claims=tuple(sorted(live, key=lambda c: c.claim_id)),
        closed=tuple(sorted(closed, key=lambda c: c.first_date)),
    )


# -- the timeline -------------------------------------------------------------------------------

# The phases of spec 7.1 a timeline shows, in course order.
PHASES: tuple[tuple[str, frozenset[str]], ...] = (
    ("clinical treatment planning", CLINICAL_PLANNING),
    ("simulation", SIMULATION | {"77293"}),
    ("dosimetric planning", DOSIMETRIC_PLANNING | {"77300", "77316", "77317", "77318"}),
    ("devices and physics consultation", frozenset({"77332", "77333", "77334", "77338", "77370"})),
    ("delivery", FRACTION_CODES),
    ("image guidance", frozenset({"77387", "77014", "G6001", "G6002", "G6017"})),
    ("treatment management", frozenset({"77427", "77431", "77432", "77435", "77469", "77470"})),
    ("physics", frozenset({"77336"})),
)


_PARTY = {
    frozenset({BillingPart.TECHNICAL}): BillingPart.TECHNICAL,
    frozenset({BillingPart.PROFESSIONAL}): BillingPart.PROFESSIONAL,
    BOTH: BillingPart.GLOBAL,
}


def _view(course: Course, claims: dict[str, CourseClaim], closed: bool) -> CourseView:
    phases = []
    for name, codes in PHASES:
        seen = next((s.dos for s in course.services if s.code in codes), None)
        if seen is not None:
            phases.append(PhaseSeen(phase=name, first_date=seen))
    fractions = sum(fractions_by_date(course.services).values())

    def billed(code: str, allowed: int) -> tuple[BilledUnits, ...]:
        units: dict[BillingPart, int] = defaultdict(int)
        for s in course.services:
            if s.code == code:
                units[_PARTY[s.parts]] += s.units
        return tuple(BilledUnits(part=p, billed=units[p], allowed=allowed) for p in sorted(units))

    return CourseView(
        course_id=course.course_id,
        first_date=course.first,
        last_date=course.last,
        closed=closed,
        phases=tuple(sorted(phases, key=lambda p: p.first_date)),
        fractions=fractions,
        weekly_management=billed("77427", weekly_units(fractions)),
        physics=billed("77336", fractions // 5),
        claims=tuple(
            ClaimRef(claim_id=cid, claim_version=claims[cid].claim_version)
            for cid in sorted(course.claim_ids)
        ),
    )


def timeline(state: PatientCourses) -> tuple[CourseView, ...]:
    """Every course of the patient, open and closed, in date order."""
    views = []
    live = {c.claim_id: c for c in state.claims}
    for course in delimit(state.patient_ref, state.claims):
        views.append(_view(course, live, closed=False))
    for closed in state.closed:
        members = {c.claim_id: c for c in closed.claims}
        for course in delimit(state.patient_ref, closed.claims):
            views.append(_view(course, members, closed=True))
    return tuple(sorted(views, key=lambda v: v.first_date))
