"""Course states no new claim touches are still expired: a slice per transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from rules import assess
from rules.courses import SETTLE_DAYS, assess_in_course
from rules.pack import current_pack
from schemas.course import PatientCourses
from tests.rules.course_builder import START, claim, days, fx, on
from worker.course_sweep import PER_TRANSACTION, CourseSweep
from worker.stores import ChangelogStore, RawCodec
from worker.topology import declare


def state_of(patient: str) -> bytes:
    pack = current_pack()
    made = claim("plan", on("77263", START), *fx("77412", days(START, 3)[1], 2))
    made = made.model_copy(update={"patient_ref": patient})
    result = assess_in_course(made, assess(made, pack), pack, None)
    assert result.state is not None
    return result.state.model_dump_json().encode()


async def changes(
    items: list[tuple[bytes, bytes]],
) -> AsyncIterator[tuple[bytes | None, bytes | None]]:
    for key, value in items:
        yield key, value


async def test_a_pass_compacts_settled_courses_drops_expired_ones_and_waits_for_the_next() -> None:
    store = ChangelogStore(declare().courses, RawCodec())
    patients = [f"P{n:04d}".encode() for n in range(PER_TRANSACTION + 20)]
    await store.replay(0, changes([(p, state_of(p.decode())) for p in patients]))
    now = [0.0]
    sweep = CourseSweep(store, retention_days=400, clock=lambda: now[0])

    # Within the settle period: read, nothing written.
    assert sweep.sweep(0, START + timedelta(days=10)) == PER_TRANSACTION
    assert store.pending_records(0) == []
    assert sweep.sweep(0, START + timedelta(days=10)) == 20
    assert sweep.sweep(0, START + timedelta(days=10)) == 0  # the next pass waits its interval

    # Past the settle period: compacted; past the retention: a tombstone.
    now[0] += 3601
    settled = START + timedelta(days=SETTLE_DAYS + 10)
    assert sweep.sweep(0, settled, skip={patients[-1]}) == PER_TRANSACTION
    written = {r.key: r.value for r in store.pending_records(0)}
    assert len(written) == PER_TRANSACTION and patients[-1] not in written
    some = next(v for v in written.values() if v is not None)
    assert PatientCourses.model_validate_json(some).closed
    store.committed(0)
    sweep.drop(0)
    now[0] += 3601
    assert sweep.sweep(0, START + timedelta(days=800)) == PER_TRANSACTION
    assert all(r.value is None for r in store.pending_records(0))
