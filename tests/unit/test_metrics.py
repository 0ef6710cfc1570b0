"""The worker's metrics against their contract (deploy/observability/metrics.yaml), in both
exposition formats, read back with prometheus_client's own parsers."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
import yaml
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from tests.deploy.kit import OBSERVABILITY
from worker.metrics import WorkerMetrics
from worker.version import version_story

CONTRACT = yaml.safe_load((OBSERVABILITY / "metrics.yaml").read_text(encoding="utf-8"))
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TOPIC = "claims.submitted"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def families(metrics: WorkerMetrics, accept: str | None = None) -> dict[str, Metric]:
    body, content_type = metrics.exposition(accept)
    parse = (
        parse_openmetrics if content_type.startswith("application/openmetrics-text") else parse_text
    )
    return {f.name: f for f in parse(body.decode())}


def value(fams: dict[str, Metric], sample: str, **labels: str) -> float | None:
    """The value of one series, whichever family holds it."""
    for family in fams.values():
        for s in family.samples:
            if s.name == sample and s.labels == labels:
                return float(s.value)
    return None


def family_name(metric: dict[str, object]) -> str:
    """The name a parser gives the family: a counter's without its _total."""
    name = str(metric["name"])
    return name.removesuffix("_total") if metric["type"] == "counter" else name


def busy(clock: Clock | None = None) -> WorkerMetrics:
    m = WorkerMetrics(version_story().labels(), clock=clock or Clock())
    m.rebalanced()
    m.assigned([(TOPIC, 0), (TOPIC, 1)])
    m.decided(0.003)
    m.committed(
        TOPIC, 0,
        outcomes={"scrubbed": 3, "needs_review": 1, "dead_letter": 1},
        dead_letters={"not_json": 1},
        findings={("ADM-S1", "warning"): 2, ("DX-1", "error"): 1},
        batch_s=0.2, txn_s=0.03,
    )  # fmt: skip
    m.aborted()
    m.fenced()
    m.watch_lag(lambda: {(TOPIC, 0): 7, (TOPIC, 1): 0})
    m.watch_broker(lambda: True)
    return m


@pytest.mark.parametrize("accept", [None, "text/plain; version=0.0.4", OPENMETRICS])
def test_every_contract_metric_is_exported_with_its_type_labels_help_and_buckets(
    accept: str | None,
) -> None:
    fams = families(busy(), accept)
    for metric in CONTRACT["metrics"]:
        family = fams[family_name(metric)]
        assert family.type == metric["type"], metric["name"]
        assert family.documentation == " ".join(metric["help"].split()), metric["name"]
        assert family.samples, f"{metric['name']} has no sample"
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == set(metric["labels"]), metric["name"]
        if metric["type"] == "histogram":
            bounds = [float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")]
            assert bounds == [*map(float, metric["buckets"]), float("inf")], metric["name"]
    for name in CONTRACT["standard"]:
        assert any(s.name == name for f in fams.values() for s in f.samples), name


def test_nothing_is_exported_beyond_the_contract_and_the_standard_collectors() -> None:
    contract = {family_name(m) for m in CONTRACT["metrics"]}
    ours = {name for name in families(busy()) if name.startswith("oncoscrub_")}
    assert ours == contract


def test_the_format_follows_the_accept_header() -> None:
    m = busy()
    assert m.exposition(None)[1].startswith("text/plain; version=0.0.4")
    body, content_type = m.exposition(OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    assert body.decode().endswith("# EOF\n")
    # Prometheus asks for OpenMetrics first and text as its fallback.
    prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"
    assert m.exposition(prometheus)[1].startswith("application/openmetrics-text")


def test_committed_decisions_findings_and_latencies_are_counted() -> None:
    fams = families(busy())
    assert value(fams, "oncoscrub_decisions_total", outcome="scrubbed") == 3
    assert value(fams, "oncoscrub_decisions_total", outcome="dead_letter") == 1
    assert value(fams, "oncoscrub_dead_letters_total", reason="not_json") == 1
    findings = "oncoscrub_findings_total"
    assert value(fams, findings, rule_id="ADM-S1", severity="warning") == 2
    assert value(fams, findings, rule_id="DX-1", severity="error") == 1
    assert value(fams, "oncoscrub_transactions_aborted_total") == 1
    assert value(fams, "oncoscrub_producer_fenced_total") == 1
    assert value(fams, "oncoscrub_rebalances_total") == 1
    assert value(fams, "oncoscrub_decide_seconds_bucket", le="0.005") == 1
    assert value(fams, "oncoscrub_decide_seconds_bucket", le="0.0025") == 0
    assert value(fams, "oncoscrub_batch_seconds_sum") == pytest.approx(0.2)
    txn_count = value(fams, "oncoscrub_transaction_seconds_count")
    assert txn_count == 1


def test_an_aborted_transaction_counts_no_decision() -> None:
    m = WorkerMetrics(version_story().labels(), standard=False)
    m.aborted()
    fams = families(m)
    assert fams["oncoscrub_decisions"].samples == []
    assert value(fams, "oncoscrub_transaction_seconds_count") == 0
    assert m.log_fields() == {"records": 0, "batches": 0, "aborted": 1, "fenced": 0, "outcomes": {}}
    assert (m.aborted_count, m.fenced_count) == (1, 0)


def test_build_info_tells_the_version_story() -> None:
    story = version_story()
    fams = families(WorkerMetrics(story.labels(), standard=False))
    [sample] = fams["oncoscrub_build_info"].samples
    assert sample.value == 1
    assert sample.labels == {
        "version": story.package,
        "engine_version": story.engine,
        "rule_pack": story.pack_version,
        "rule_pack_sha256": story.pack_sha256,
    }


def test_last_commit_is_a_timestamp_per_owned_partition_from_its_assignment() -> None:
    clock = Clock(1000.0)
    m = WorkerMetrics(version_story().labels(), standard=False, clock=clock)
    m.assigned([(TOPIC, 0), (TOPIC, 1)])
    stamp = "oncoscrub_last_commit_timestamp_seconds"
    clock.now = 1060.0
    m.committed(TOPIC, 1, {"scrubbed": 1}, {}, {}, 0.1, 0.01)
    clock.now = 5000.0  # idle: the values stay where they were; only their age grows
    fams = families(m)
    assert value(fams, stamp, topic=TOPIC, partition="0") == 1000.0
    assert value(fams, stamp, topic=TOPIC, partition="1") == 1060.0
    assert value(fams, "oncoscrub_assigned_partitions") == 2

    m.assigned([(TOPIC, 1), (TOPIC, 2)])  # 0 revoked, 2 assigned at 5000
    fams = families(m)
    assert value(fams, stamp, topic=TOPIC, partition="0") is None
    assert value(fams, stamp, topic=TOPIC, partition="1") == 1060.0
    assert value(fams, stamp, topic=TOPIC, partition="2") == 5000.0
    # A commit landing after its partition was revoked adds no series back.
    m.committed(TOPIC, 0, {"scrubbed": 1}, {}, {}, 0.1, 0.01)
    assert value(families(m), stamp, topic=TOPIC, partition="0") is None


def test_lag_is_read_at_scrape_time_for_owned_partitions_only() -> None:
    m = WorkerMetrics(version_story().labels(), standard=False)
    lag = {(TOPIC, 0): 4, (TOPIC, 9): 100}
    m.watch_lag(lambda: lag)
    m.assigned([(TOPIC, 0)])
    fams = families(m)
    series = {s.labels["partition"]: s.value for s in fams["oncoscrub_consumer_lag"].samples}
    assert series == {"0": 4}
    lag[(TOPIC, 0)] = 0
    assert (
        value(
            families(m),
            "oncoscrub_consumer_lag",
            topic=TOPIC,
            partition="0",
        )
        == 0
    )


def test_a_failing_lag_provider_does_not_fail_the_scrape() -> None:
    def broken() -> dict[tuple[str, int], int]:
        raise RuntimeError("the consumer is closed")

    m = WorkerMetrics(version_story().labels(), standard=False)
    m.assigned([(TOPIC, 0)])
    m.watch_lag(broken)
    fams = families(m)
    assert fams["oncoscrub_consumer_lag"].samples == []
    assert value(fams, "oncoscrub_broker_up") == 0


def test_broker_up_follows_its_provider() -> None:
    m = WorkerMetrics(version_story().labels(), standard=False)
    up = [False]
    m.watch_broker(lambda: up[0])
    assert value(families(m), "oncoscrub_broker_up") == 0
    up[0] = True
    assert value(families(m), "oncoscrub_broker_up") == 1


def test_each_worker_has_its_own_registry() -> None:
    a, b = busy(), WorkerMetrics(version_story().labels())
    assert families(b)["oncoscrub_decisions"].samples == []
    assert value(families(a), "oncoscrub_decisions_total", outcome="scrubbed") == 3


def test_log_fields_total_what_committed() -> None:
    assert busy().log_fields() == {
        "records": 5,
        "batches": 1,
        "aborted": 1,
        "fenced": 1,
        "outcomes": {"scrubbed": 3, "needs_review": 1, "dead_letter": 1},
    }


def test_no_series_has_a_created_twin() -> None:
    """A counter's _created series would double what the dashboard reads."""
    names: Iterable[str] = (s.name for f in families(busy()).values() for s in f.samples)
    assert not [n for n in names if n.endswith("_created")]
