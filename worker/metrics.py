"""The worker's Prometheus metrics (``GET /metrics``), as ``deploy/observability/metrics.yaml``
declares them: the contract the alerts and the dashboard are written against.

Each worker has its own ``CollectorRegistry`` (tests run several in one process). Counters
only count what committed; labels carry outcomes, reason codes, rule ids, severities, topics
and partitions, never anything from a claim. Consumer lag and the broker's state are read
when Prometheus scrapes, from functions the processor and the app hand in.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from worker.logs import get_logger

# A counter's _created series would double every series the dashboard reads, for nothing
# it uses. Process-wide, which is what prometheus_client offers.
disable_created_metrics()  # type: ignore[no-untyped-call]

log = get_logger("worker.metrics")

Partition = tuple[str, int]  # (topic, partition)
LagProvider = Callable[[], Mapping[Partition, int]]
BrokerProvider = Callable[[], bool]

# Help texts as metrics.yaml words them (tests/unit/test_metrics.py holds them equal).
HELP = {
    "oncoscrub_build_info": "Always 1; the labels say what decides: the package version, the "
    "rule engine's version, the rule pack's version and content hash.",
    "oncoscrub_decisions_total": "Decisions committed, by outcome (scrubbed, needs_review, "
    "dead_letter). Counted when the transaction that wrote them commits, never for an aborted "
    "batch.",
    "oncoscrub_dead_letters_total": "Inputs dead-lettered, by reason code (not_json, "
    "nested_too_deep, not_an_object, oversized).",
    "oncoscrub_findings_total": "Findings in committed decisions, by rule id and severity "
    "(error, warning, info).",
    "oncoscrub_decide_seconds": "Time to decide one input record (parse, validate, assess, "
    "serialise, audit event).",
    "oncoscrub_batch_seconds": "Time from a batch's poll to its transaction's commit.",
    "oncoscrub_transaction_seconds": "Time from a transaction's first send to its commit, "
    "committed transactions only.",
    "oncoscrub_transactions_aborted_total": "Transactions aborted (the batch is rewound and "
    "decided again).",
    "oncoscrub_producer_fenced_total": "Times a partition's transactional producer was fenced "
    "by a newer owner (a zombie worker was stopped from writing).",
    "oncoscrub_rebalances_total": "Partition assignments this worker received (one per "
    "rebalance it took part in).",
    "oncoscrub_assigned_partitions": "Input partitions this worker owns now.",
    "oncoscrub_consumer_lag": "Records between the committed offset and the end of each owned "
    "input partition (read committed), refreshed at least every 30 seconds; no series for a "
    "partition not owned.",
    "oncoscrub_last_commit_timestamp_seconds": "Unix time of the last commit for each owned "
    "input partition, or of its assignment when nothing was committed since; with lag above "
    "zero, its age is how long the partition has been stuck (an idle partition has no lag, so "
    "its age means nothing).",
    "oncoscrub_broker_up": "1 while the worker's Kafka clients are connected to the cluster, 0 "
    "while they are not.",
}

DECIDE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
BATCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TRANSACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def _counter(name: str, labels: tuple[str, ...], registry: CollectorRegistry) -> PromCounter:
    # prometheus_client adds the _total itself.
    return PromCounter(name.removesuffix("_total"), HELP[name], labels, registry=registry)


class _Live(Collector):
    """Series read at scrape time: consumer lag per owned partition, and the broker's state."""

    def __init__(self, owned: Callable[[], Collection[Partition]]) -> None:
        self._owned = owned
        self.lag: LagProvider | None = None
        self.broker: BrokerProvider | None = None

    def describe(self) -> Iterable[Metric]:
        # Registration asks for the names; the providers may not be ready to answer yet.
        yield GaugeMetricFamily("oncoscrub_consumer_lag", HELP["oncoscrub_consumer_lag"])
        yield GaugeMetricFamily("oncoscrub_broker_up", HELP["oncoscrub_broker_up"])

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "oncoscrub_consumer_lag",
            HELP["oncoscrub_consumer_lag"],
            labels=["topic", "partition"],
        )
        owned = set(self._owned())
        for (topic, partition), records in sorted(self._read_lag().items()):
            if (topic, partition) in owned:  # the contract: no series for a partition not owned
                lag.add_metric([topic, str(partition)], max(0, records))
        yield lag
        up = GaugeMetricFamily("oncoscrub_broker_up", HELP["oncoscrub_broker_up"])
        up.add_metric([], 1.0 if self.broker is not None and self.broker() else 0.0)
        yield up

    def _read_lag(self) -> Mapping[Partition, int]:
        if self.lag is None:
            return {}
        try:
            return self.lag()
        except Exception as exc:  # a scrape must never fail for one series
            log.warning("consumer_lag_unavailable", error=type(exc).__name__)
            return {}


@dataclass
class _Tally:
    """What the worker's last log line reports (``processor_stopped``)."""

    records: int = 0
    batches: int = 0
    aborted: int = 0
    fenced: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class WorkerMetrics:
    """The worker's metrics on a registry of its own, and the calls that move them."""

    def __init__(
        self,
        build: Mapping[str, str],
        *,
        standard: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``build``: the build-info labels (``worker.version.VersionStory.labels()``).
        ``standard``: also the process_* and python_* collectors."""
        self.registry = CollectorRegistry()
        self._clock = clock
        self._owned: set[Partition] = set()
        self._tally = _Tally()
        r = self.registry
        info = Gauge("oncoscrub_build_info", HELP["oncoscrub_build_info"], list(build), registry=r)
        info.labels(**build).set(1)
        self._decisions = _counter("oncoscrub_decisions_total", ("outcome",), r)
        self._dead_letters = _counter("oncoscrub_dead_letters_total", ("reason",), r)
        self._findings = _counter("oncoscrub_findings_total", ("rule_id", "severity"), r)
        self._decide = Histogram(
            "oncoscrub_decide_seconds", HELP["oncoscrub_decide_seconds"],
            buckets=DECIDE_BUCKETS, registry=r,
        )  # fmt: skip
        self._batch = Histogram(
            "oncoscrub_batch_seconds", HELP["oncoscrub_batch_seconds"],
            buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self._transaction = Histogram(
            "oncoscrub_transaction_seconds", HELP["oncoscrub_transaction_seconds"],
            buckets=TRANSACTION_BUCKETS, registry=r,
        )  # fmt: skip
        self._aborted = _counter("oncoscrub_transactions_aborted_total", (), r)
        self._fenced = _counter("oncoscrub_producer_fenced_total", (), r)
        self._rebalances = _counter("oncoscrub_rebalances_total", (), r)
        self._assigned = Gauge(
            "oncoscrub_assigned_partitions", HELP["oncoscrub_assigned_partitions"], registry=r
        )
        self._last_commit = Gauge(
            "oncoscrub_last_commit_timestamp_seconds",
            HELP["oncoscrub_last_commit_timestamp_seconds"],
            ["topic", "partition"],
            registry=r,
        )
        self._live = _Live(lambda: self._owned)
        r.register(self._live)
        if standard:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)

    # -- what the processor reports ----------------------------------------------------------

    def committed(
        self,
        topic: str,
        partition: int,
        outcomes: Mapping[str, int],
        dead_letters: Mapping[str, int],
        findings: Mapping[tuple[str, str], int],
        batch_s: float,
        txn_s: float,
    ) -> None:
        """A transaction committed: its decisions by outcome, its dead letters by reason, its
        findings by (rule id, severity), the seconds since its batch was polled and since its
        first send."""
        for outcome, n in outcomes.items():
            self._decisions.labels(outcome).inc(n)
        for reason, n in dead_letters.items():
            self._dead_letters.labels(reason).inc(n)
        for (rule_id, severity), n in findings.items():
            self._findings.labels(rule_id, severity).inc(n)
        self._batch.observe(batch_s)
        self._transaction.observe(txn_s)
        if (topic, partition) in self._owned:
            self._last_commit.labels(topic, str(partition)).set(self._clock())
        t = self._tally
        t.records += sum(outcomes.values())
        t.batches += 1
        t.outcomes.update(outcomes)

    def decided(self, seconds: float) -> None:
        """One record decided, in ``seconds``."""
        self._decide.observe(seconds)

    def aborted(self) -> None:
        self._aborted.inc()
        self._tally.aborted += 1

    def fenced(self) -> None:
        self._fenced.inc()
        self._tally.fenced += 1

    def rebalanced(self) -> None:
        """An assignment was received (once per rebalance, whatever it holds)."""
        self._rebalances.inc()

    def assigned(self, partitions: Collection[Partition]) -> None:
        """The input partitions owned now: a partition new to the set starts its last-commit
        clock at its assignment; one that left it loses its series."""
        now = set(partitions)
        for topic, partition in now - self._owned:
            self._last_commit.labels(topic, str(partition)).set(self._clock())
        for topic, partition in self._owned - now:
            self._last_commit.remove(topic, str(partition))
        self._owned = now
        self._assigned.set(len(now))

    def watch_lag(self, provider: LagProvider) -> None:
        """``provider`` gives the records waiting per owned (topic, partition), read committed;
        it is called on every scrape, on the event loop, so it must not wait on I/O."""
        self._live.lag = provider

    def watch_broker(self, provider: BrokerProvider) -> None:
        """``provider`` says whether the cluster answered the latest check."""
        self._live.broker = provider

    # -- what the worker reads back --------------------------------------------------------------

    @property
    def fenced_count(self) -> int:
        return self._tally.fenced

    @property
    def aborted_count(self) -> int:
        return self._tally.aborted

    def log_fields(self) -> dict[str, object]:
        t = self._tally
        return {
            "records": t.records,
            "batches": t.batches,
            "aborted": t.aborted,
            "fenced": t.fenced,
            "outcomes": dict(t.outcomes),
        }

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The registry in the format the scraper's Accept header asks for (OpenMetrics or
        Prometheus text), with its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


@dataclass
class Stats:
    """The processor's counters as it keeps them today; ``WorkerMetrics`` replaces them once
    the processor reports to it (``log_fields`` is the same there)."""

    records: int = 0
    batches: int = 0
    aborted: int = 0
    fenced: int = 0
    dropped_stale: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    last_commit_monotonic: float | None = None

    def committed(self, records: int, outcomes: Counter[str], at_monotonic: float) -> None:
        self.records += records
        self.batches += 1
        self.outcomes.update(outcomes)
        self.last_commit_monotonic = at_monotonic

    def log_fields(self) -> dict[str, object]:
        return {
            "records": self.records,
            "batches": self.batches,
            "aborted": self.aborted,
            "fenced": self.fenced,
            "outcomes": dict(self.outcomes),
        }
