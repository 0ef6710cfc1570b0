"""``oncoscrub worker`` as a process, as a supervisor sees it: its exit code and its lines.

Start-up is bounded (no broker: exit 3 at the timeout, one line); a bad variable is one line
and exit 2; topics the worker cannot use are exit 1; SIGTERM always ends with a final
``worker_stopped`` line, exit 0 once it ran, and even while the cluster is down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from deploy.kafkatools import claim_items, wait_for_decisions
from deploy.localkafka import LocalKafka, free_port
from schemas.examples import example_claim
from worker.topology import Topics

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


class Worker:
    """``python -m worker.cli worker`` with its health port known and its stderr kept."""

    def __init__(self, log_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"worker-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker"],
            cwd=ROOT,
            env={
                **os.environ,
                "ONCOSCRUB_HEALTH_PORT": str(self.port),
                "ONCOSCRUB_DECIDE_PROCESSES": "1",
                "ONCOSCRUB_LOG_DECISIONS": "false",
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.started = time.monotonic()

    def get(self, path: str, accept: str | None = None) -> tuple[int, str]:
        """Status and body of a health route; 0 while nothing listens."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if accept:
            request.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def wait_for(self, what: Callable[[], bool], timeout: float, why: str) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"exited {self.proc.returncode} waiting for {why}:\n{self.text()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {why} after {timeout}s:\n{self.text()}")
            time.sleep(0.3)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        return code

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def lines(self) -> list[dict[str, Any]]:
        """Every line of stderr, each of which must be one JSON object; stdout stays empty."""
        assert self.proc.stdout is not None and self.proc.stdout.read() == b""
        return [json.loads(line) for line in self.text().splitlines()]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(tmp_path, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()


def final(lines: list[dict[str, Any]]) -> dict[str, Any]:
    assert lines, "no line at all"
    last = lines[-1]
    assert last["message"] == "worker_stopped", last
    assert [line["message"] for line in lines].count("worker_stopped") == 1
    return last


def test_no_broker_exits_3_at_the_startup_timeout_with_one_line(
    workers: Callable[..., Worker],
) -> None:
    nothing = f"127.0.0.1:{free_port()}"
    worker = workers(ONCOSCRUB_BOOTSTRAP_SERVERS=nothing, ONCOSCRUB_STARTUP_TIMEOUT_S="8")
    # While it waits, it is alive (a restart would not help) and not ready.
    worker.wait_for(lambda: worker.get("/health/live")[0] == 204, 60, "liveness")
    status, body = worker.get("/health/ready")
    assert (status, json.loads(body)["state"]) == (503, "starting")
    assert worker.wait(60) == 3
    [line] = worker.lines()
    assert line["level"] == "error" and line["message"] == "worker_stopped"
    assert (line["how"], line["exit_code"]) == ("broker_unreachable", 3)
    assert nothing in line["reason"] and "ONCOSCRUB_STARTUP_TIMEOUT_S" in line["reason"]


def test_sigterm_while_no_broker_answers_says_so(workers: Callable[..., Worker]) -> None:
    worker = workers(
        ONCOSCRUB_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}", ONCOSCRUB_STARTUP_TIMEOUT_S="300"
    )
    worker.wait_for(lambda: worker.get("/health/live")[0] == 204, 60, "liveness")
    worker.terminate()
    assert worker.wait(30) == 3
    [line] = worker.lines()
    assert (line["how"], line["reason"]) == (
        "broker_unreachable",
        "stopped before any broker answered",
    )


def test_a_bad_variable_exits_2_with_one_line(workers: Callable[..., Worker]) -> None:
    worker = workers(ONCOSCRUB_BATCH_MAX_RECORDS="many", ONCOSCRUB_SASL_PASSWORD="hunter2")
    assert worker.wait(60) == 2
    [line] = worker.lines()
    assert (line["message"], line["exit_code"]) == ("config_invalid", 2)
    assert [p["setting"] for p in line["problems"]] == ["ONCOSCRUB_BATCH_MAX_RECORDS"]
    assert "hunter2" not in worker.text() and "many" not in json.dumps(line["problems"])


def test_topics_it_cannot_use_exit_1(kafka_bootstrap: str, workers: Callable[..., Worker]) -> None:
    missing = Topics.prefixed(f"never-created-{os.getpid()}.")
    worker = workers(ONCOSCRUB_BOOTSTRAP_SERVERS=kafka_bootstrap, **missing.env())
    assert worker.wait(120) == 1
    lines = worker.lines()
    assert "topics_refused" in [line["message"] for line in lines]
    last = final(lines)
    assert (last["how"], last["error"]) == ("failed", "TopicsRefusedError")
    assert "exception" not in last  # the topics_refused line already says why


async def test_a_running_worker_decides_reports_metrics_and_stops_on_sigterm_with_exit_0(
    kafka_bootstrap: str, topics: Topics, workers: Callable[..., Worker]
) -> None:
    worker = workers(
        ONCOSCRUB_BOOTSTRAP_SERVERS=kafka_bootstrap,
        ONCOSCRUB_GROUP_ID=f"g-{topics.submitted}",
        **topics.env(),
    )

    def owns_every_partition() -> bool:
        status, body = worker.get("/health/ready")
        return status == 200 and json.loads(body)["partitions"] == [0, 1, 2]

    worker.wait_for(owns_every_partition, 180, "readiness with the three partitions")
    published = time.time()
    [(key, value)] = claim_items([example_claim(7)])
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.submitted, value, key=key, partition=0, headers=[("traceparent", trace.encode())]
        )
        await producer.send_and_wait(topics.submitted, b"not json", key=b"k", partition=1)
    finally:
        await producer.stop()
    out = await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=120)
    # Tracing is off: the decision carries its input's trace context as it came.
    [scrubbed] = out.scrubbed
    assert dict(scrubbed.headers or [])["traceparent"] == trace.encode()

    def metrics() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, body = worker.get("/metrics", accept=OPENMETRICS)
        assert status == 200
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    def lag_read() -> bool:
        lag = {k: v for k, v in metrics().items() if k[0] == "oncoscrub_consumer_lag"}
        return len(lag) == 3 and set(lag.values()) == {0}

    worker.wait_for(lag_read, 60, "lag of every owned partition")
    samples = metrics()
    assert samples[("oncoscrub_broker_up", ())] == 1
    assert samples[("oncoscrub_assigned_partitions", ())] == 3
    assert samples[("oncoscrub_rebalances_total", ())] >= 1
    assert samples[("oncoscrub_decisions_total", (("outcome", "scrubbed"),))] == 1
    assert samples[("oncoscrub_decisions_total", (("outcome", "dead_letter"),))] == 1
    assert samples[("oncoscrub_dead_letters_total", (("reason", "not_json"),))] == 1
    assert samples[("oncoscrub_decide_seconds_count", ())] == 2
    assert samples[("oncoscrub_transaction_seconds_count", ())] >= 1
    assert samples[("oncoscrub_batch_seconds_count", ())] >= 1
    stamps = {
        dict(labels)["partition"]: v
        for (name, labels), v in samples.items()
        if name == "oncoscrub_last_commit_timestamp_seconds"
    }
    assert set(stamps) == {"0", "1", "2"}
    assert published - 5 <= min(stamps["0"], stamps["1"]) <= time.time()
    build = [labels for name, labels in samples if name == "oncoscrub_build_info"]
    assert len(build) == 1 and dict(build[0])["rule_pack_sha256"]

    worker.terminate()
    assert worker.wait(90) == 0
    lines = worker.lines()
    last = final(lines)
    assert (last["level"], last["how"], last["exit_code"]) == ("info", "stopped", 0)
    messages = [line["message"] for line in lines]
    assert messages.index("worker_started") < messages.index("processor_stopped") < len(lines) - 1
    stopped = lines[messages.index("processor_stopped")]
    assert (stopped["records"], stopped["outcomes"]) == (2, {"scrubbed": 1, "dead_letter": 1})
    assert [line for line in lines if line["level"] in ("error", "critical")] == []


def test_sigterm_during_a_broker_outage_ends_with_the_final_line_and_exit_0(
    workers: Callable[..., Worker],
) -> None:
    """A broker of its own, stopped under the running worker."""
    kafka = LocalKafka().start()
    try:
        worker = workers(ONCOSCRUB_BOOTSTRAP_SERVERS=kafka.bootstrap, ONCOSCRUB_GROUP_ID="outage")
        worker.wait_for(lambda: worker.get("/health/ready")[0] == 200, 180, "readiness")
        kafka.stop()
        # Readiness tells the truth within a check or two; liveness stays: it recovers alone.
        worker.wait_for(lambda: worker.get("/health/ready")[0] == 503, 60, "unready in the outage")
        assert worker.get("/health/live")[0] == 204
        worker.terminate()
        assert worker.wait(120) == 0
    finally:
        kafka.stop()
    lines = worker.lines()
    last = final(lines)
    assert (last["how"], last["exit_code"]) == ("stopped", 0)
    assert not [line for line in lines if "shutdown failed" in line["message"].lower()]
