"""What deciding a claim within its radiation-oncology course costs on top of the engine.
Prints figures; asserts nothing.

    python -m bench.course_overhead [--fractions 40] [--repeat 200]

A hospital-based course billed over many claims (the physician's planning and weekly
management, the hospital's plan and one claim per treatment day with the week's physics):
for the course's last claim, the time of ``assess_in_course`` (given the state of every
earlier claim), of the course checks alone (``course_findings`` over the course), and the
difference: the course model's own overhead (delimiting, contributions, corrections, state).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta

from rules import assess
from rules.courses import assess_in_course, course_facts, course_findings, delimit
from rules.pack import current_pack
from schemas import SubmittedClaim
from schemas.course import CourseClaim, PatientCourses


def _claim(claim_id: str, lines: list[tuple[str, str, date]], physician: bool) -> SubmittedClaim:
    days = sorted(d for _, _, d in lines)
    return SubmittedClaim.model_validate(
        {
            "claim_id": claim_id,
            "claim_type": "professional" if physician else "institutional",
            "bill_type": None if physician else "0131",
            "place_of_service": "22",
            "setting": "hospital_outpatient",
            "payer": {"payer_id": "MEDICARE", "name": "Medicare"},
            "patient_ref": "PSN-BENCH",
            "statement_from": days[0].isoformat(),
            "statement_to": days[-1].isoformat(),
            "diagnoses": ["Z51.0", "C61"],
            "service_lines": [
                {"line_number": n, "code": code, "units": units, "date_of_service": d.isoformat()}
                for n, (code, units, d) in enumerate(lines, start=1)
            ],
        }
    )


def course(fractions: int) -> list[SubmittedClaim]:
    first = date(2025, 6, 2)
    out = [
        _claim("P-PLAN", [("77263", "1", first - timedelta(days=14))], physician=True),
        _claim("H-PLAN", [("77301", "1", first - timedelta(days=9)),
                          ("77338", "1", first - timedelta(days=9)),
                          ("77300", "1", first - timedelta(days=9))], physician=False),
    ]  # fmt: skip
    day, n, week = first, 0, 0
    while n < fractions:
        if day.weekday() < 5:
            n += 1
            lines = [("77412", "1", day)]
            if n % 5 == 0:
                week += 1
                lines.append(("77336", "1", day))
                out.append(_claim(f"P-W{week}", [("77427", "1", day)], physician=True))
            out.append(_claim(f"H-D{n:02d}", lines, physician=False))
        day += timedelta(days=1)
    return out


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    pack = current_pack()
    claims = course(args.fractions)
    state: PatientCourses | None = None
    for c in claims[:-1]:
        state = assess_in_course(c, assess(c, pack), pack, state).state
    last = claims[-1]
    base = assess(last, pack)
    services = sum(len(c.services) for c in (state.claims if state else ()))
    print(f"a course of {len(claims)} claims, {args.fractions} fractions, {services} services")

    whole = _best(lambda: assess_in_course(last, base, pack, state), args.repeat)
    facts = course_facts(last)
    assert state is not None
    assert facts is not None
    pool: dict[str, CourseClaim] = {c.claim_id: c for c in state.claims}
    pool[last.claim_id] = facts

    def checks_only() -> None:
        for c in delimit(state.patient_ref, pool.values()):
            course_findings(c, pool, pack)

    checks = _best(checks_only, args.repeat)
    engine = _best(lambda: assess(last, pack), args.repeat)
    size = len(assess_in_course(last, base, pack, state).state.model_dump_json())  # type: ignore[union-attr]
    for label, (best, median) in (
        ("engine alone (assess)", engine),
        ("assess_in_course (given the assessment)", whole),
        ("the course checks alone (delimit + course_findings)", checks),
    ):
        print(f"{label:<55} {best * 1e3:7.3f} ms best, {median * 1e3:7.3f} ms median")
    print(
        f"{'overhead beyond the checks':<55} {(whole[0] - checks[0]) * 1e3:7.3f} ms best, "
        f"{(whole[1] - checks[1]) * 1e3:7.3f} ms median"
    )
    print(f"state after the last claim: {size:,} bytes of JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
