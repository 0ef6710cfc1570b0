"""Expiring patients' course states that no new claim touches.

A patient's state is expired (``rules.courses.expire``) whenever one of their claims is
decided. A patient with no new claim would keep theirs for ever, so each decide
transaction also sweeps a slice of its partition's patients: compacting courses that have
settled, dropping those past the retention (a tombstone on the compacted changelog). A pass
over a partition's patients starts at most once per ``PASS_INTERVAL_S``; its writes ride
in the transactions that decide records, so they commit or abort with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Set
from datetime import date

from rules.courses import expire
from schemas.course import PatientCourses
from worker.stores import ChangelogStore

PER_TRANSACTION = 100  # about 2 ms of decoding per transaction on the event loop
PASS_INTERVAL_S = 3600.0


class CourseSweep:
    def __init__(
        self,
        store: ChangelogStore[bytes],
        retention_days: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._retention_days = retention_days
        self._clock = clock
        self._todo: dict[int, list[bytes]] = {}
        self._last_pass: dict[int, float] = {}

    def sweep(self, partition: int, as_of: date, skip: Set[bytes] = frozenset()) -> int:
        """Expire up to ``PER_TRANSACTION`` patients of the partition (not those in ``skip``,
        decided in this transaction); how many were read."""
        todo = self._todo.get(partition)
        if not todo:
            began = self._last_pass.get(partition)
            if began is not None and self._clock() - began < PASS_INTERVAL_S:
                return 0
            self._last_pass[partition] = self._clock()
            todo = self._todo[partition] = self._store.keys(partition)
        read = 0
        while todo and read < PER_TRANSACTION:
            key = todo.pop()
            value = None if key in skip else self._store.get(partition, key)
            if value is None:
                continue
            read += 1
            state = PatientCourses.model_validate_json(value)
            kept = expire(state, as_of, self._retention_days)
            if kept is None:
                self._store.delete(partition, key)
            elif kept != state:
                self._store.put(partition, key, kept.model_dump_json().encode())
        return read

    def drop(self, partition: int) -> None:
        """The partition left this worker: its next owner sweeps it."""
        self._todo.pop(partition, None)
        self._last_pass.pop(partition, None)
