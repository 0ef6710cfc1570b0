"""Kafka client logging, bounded: one line per change of the broker's reachability and a
periodic count of what was held back, instead of a line per reconnect attempt.

aiokafka logs every failed connection attempt, metadata refresh and fetch at error level:
about 3,700 lines a minute while a broker is down, and an error line on a normal start
(the group coordinator is "not available" until ``__consumer_offsets`` exists). A filter on
the log handler turns that into:

* ``broker_unreachable`` (warning) on the first connection failure, with that failure;
* ``broker_still_unreachable`` (warning) every ``summary_every_s`` while it lasts, with the
  count of lines held back by kind;
* ``broker_reachable`` (info) when a client reaches the broker again: it found a
  coordinator or joined its group, the application says so (``worker.logs.broker_answered``),
  or no connection failure came for ``quiet_s`` (aiokafka retries every few hundred
  milliseconds, so silence means it got through);
* a retried error (produce retries, a coordinator that moved) while the broker is reachable
  passes once per kind and interval, the rest counted in the next summary;
* "coordinator not available" while a group looks for its coordinator is expected: debug,
  for ``startup_grace_s``; a coordinator still missing after that is reported. So are the
  retried errors of a client's first ``startup_grace_s`` (a coordinator still loading, a
  partition's leader being elected).

An error aiokafka itself retries (a retriable ``KafkaError`` among the arguments) is a warning,
not an error. Everything else from the clients passes unchanged at warning and above.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka.errors import CoordinatorNotAvailableError, KafkaError

LIBRARIES = ("aiokafka", "kafka")

# Failed attempts to reach a broker, by the start of aiokafka's message template.
_UNREACHABLE = {
    "Unable connect to": "connect",
    "Unable to update metadata": "metadata",
    "Unable to request metadata": "metadata",
    "Failed fetch messages": "fetch",
    "Failed fetch offsets": "fetch",
    "Error sending ": "coordinator",
    "Heartbeat send request failed": "heartbeat",
    "Cannot send ": "send",
    "Could not send ": "send",
}
# Errors aiokafka retries on its own, that a reachable broker gives now and then.
_RETRIED = {
    "Got error produce response": "produce_retry",
    "Group Coordinator Request failed": "coordinator",
    "Marking the coordinator dead": "coordinator",
    "Heartbeat failed for group": "heartbeat",  # not "Heartbeat failed: ...": those pass
}
# What aiokafka says (at info) only after a broker answered.
_REACHED = ("Discovered coordinator", "Joined group", "Successfully synced group")
_COORDINATOR_LOOKUP = "Group Coordinator Request failed"
_GROUP_COORDINATOR_FOUND = "Discovered coordinator %s for group %s"

Emit = Callable[..., None]  # emit(level, message, **fields)


def _kind(template: str, table: dict[str, str]) -> str | None:
    for prefix, kind in table.items():
        if template.startswith(prefix):
            return kind
    return None


def _retried_by_the_client(record: logging.LogRecord) -> bool:
    args = record.args if isinstance(record.args, tuple) else ()
    return any(isinstance(a, KafkaError) and a.retriable for a in args)


def _coordinator_not_available(record: logging.LogRecord) -> bool:
    args = record.args if isinstance(record.args, tuple) else ()
    return any(isinstance(a, CoordinatorNotAvailableError) for a in args)


def _demote(record: logging.LogRecord, level: int) -> None:
    record.levelno = level
    record.levelname = logging.getLevelName(level)


class BrokerChurn(logging.Filter):
    """A handler filter for the Kafka clients' loggers (see the module's account).

    ``floor``: the lowest level of a client's own line that passes (the clients are chatty
    below warning); records below it are still read for signs that the broker answered.
    """

    def __init__(
        self,
        emit: Emit,
        floor: int = logging.WARNING,
        *,
        summary_every_s: float = 60.0,
        quiet_s: float = 15.0,
        startup_grace_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        watch: bool = True,
    ) -> None:
        super().__init__()
        self._emit = emit
        self.floor = floor
        self.summary_every_s = summary_every_s
        self.quiet_s = quiet_s
        self.startup_grace_s = startup_grace_s
        self._clock = clock
        self._watch = watch  # a thread notices the quiet that ends an outage
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None
        self.unreachable_since: float | None = None
        self._last_failure = 0.0
        self._held: Counter[str] = Counter()  # lines held back since the last summary
        self._held_in_outage = 0
        self._summary_at = 0.0
        self._passed_at: dict[str, float] = {}  # a retried error's kind -> when one last passed
        self._looking_since: float | None = None  # a group looks for its coordinator
        self._started = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] not in LIBRARIES:
            return True
        template = str(record.msg)
        with self._lock:
            now = self._clock()
            if record.levelno < logging.WARNING:
                self._observe(template, now)
                return record.levelno >= self.floor
            self._tick(now)
            if self._expected(template, record, now):
                _demote(record, logging.DEBUG)
                return record.levelno >= self.floor
            unreachable = _kind(template, _UNREACHABLE)
            if unreachable is not None:
                return self._failed(now, unreachable, record)
            retried = _kind(template, _RETRIED)
            if retried is not None and not self._passes(now, retried):
                return False
        if record.levelno >= logging.ERROR and _retried_by_the_client(record):
            _demote(record, logging.WARNING)
        return record.levelno >= self.floor

    def answered(self, how: str) -> None:
        """A client of ours had an answer from the broker: an outage being told has ended."""
        with self._lock:
            self._reached(self._clock(), how)

    def tick(self) -> None:
        """Say what is due: the periodic summary, or the end of an outage gone quiet."""
        with self._lock:
            self._tick(self._clock())

    def close(self) -> None:
        """Stop watching and say what is still held back (once: logging closes handlers
        again at exit, after the worker's final line)."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._lock:
            self._summarise(self._clock())

    def _observe(self, template: str, now: float) -> None:
        if template.startswith(_REACHED):
            if template == _GROUP_COORDINATOR_FOUND:
                self._looking_since = None
            self._reached(now, "a Kafka client found its coordinator")

    def _expected(self, template: str, record: logging.LogRecord, now: float) -> bool:
        """A group looking for its coordinator, and what the clients retry while a cluster
        they just joined settles (coordinators loading, leaders elected), in their first
        ``startup_grace_s``."""
        if template.startswith(_COORDINATOR_LOOKUP) and _coordinator_not_available(record):
            if self._looking_since is None:
                self._looking_since = now
            return now - self._looking_since < self.startup_grace_s
        settling = now - self._started < self.startup_grace_s
        return settling and self.unreachable_since is None and _kind(template, _RETRIED) is not None

    def _failed(self, now: float, kind: str, record: logging.LogRecord) -> bool:
        self._last_failure = now
        if self.unreachable_since is None:
            if self._held:  # retries held back before the outage are told apart from it
                self._summarise(now)
            self.unreachable_since = now
            self._summary_at = now
            self._held_in_outage = 0
            self._emit("warning", "broker_unreachable", kind=kind, error=record.getMessage())
            self._start_watching()
        else:
            self._held[kind] += 1
            self._held_in_outage += 1
        return False

    def _passes(self, now: float, kind: str) -> bool:
        if self.unreachable_since is None:
            last = self._passed_at.get(kind)
            if last is None or now - last >= self.summary_every_s:
                self._passed_at[kind] = now
                return True
        self._held[kind] += 1
        if self.unreachable_since is not None:
            self._held_in_outage += 1
        else:
            self._start_watching()
        return False

    def _reached(self, now: float, how: str) -> None:
        since = self.unreachable_since
        if since is None:
            return
        self.unreachable_since = None
        held = self._held_in_outage
        self._held.clear()
        self._summary_at = now
        self._emit(
            "info", "broker_reachable", after_s=round(now - since, 1), held_back=held, how=how
        )

    def _tick(self, now: float) -> None:
        if self.unreachable_since is not None and now - self._last_failure >= self.quiet_s:
            self._reached(now, f"no connection failure for {self.quiet_s:g} s")
        elif now - self._summary_at >= self.summary_every_s:
            self._summarise(now)

    def _summarise(self, now: float) -> None:
        held, self._held = self._held, Counter()
        self._summary_at = now
        fields: dict[str, Any] = {"held_back": dict(held), "every_s": self.summary_every_s}
        if self.unreachable_since is not None:
            self._emit(
                "warning", "broker_still_unreachable",
                for_s=round(now - self.unreachable_since, 1), **fields,
            )  # fmt: skip
        elif held:
            self._emit("warning", "kafka_client_retries", **fields)

    def _start_watching(self) -> None:
        if not self._watch or self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watching, name="broker-churn", daemon=True)
        self._watcher.start()

    def _watching(self) -> None:
        while not self._closed.wait(1.0):
            with self._lock:
                self._tick(self._clock())
                if self.unreachable_since is None and not self._held:
                    self._watcher = None  # under the lock: the next outage starts another
                    return
