"""The deploy kit's commands, run for real against a real broker: the topic creation of compose
and of the Kubernetes job, and a worker started with the StatefulSet's environment and entry
point, probed as the kubelet and Docker would probe it, then stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.kafkatools import claim_items, connection, produce, wait_for_decisions
from deploy.localkafka import free_port
from schemas.examples import example_claim
from tests.deploy.dockerfile import final_stage, healthcheck_command
from tests.deploy.kit import (
    ROOT,
    all_objects,
    compose,
    env_of,
    one,
    topics_create_args,
    topics_job,
    with_option,
    worker_container,
)
from worker.topic_admin import partitions_of
from worker.topology import Topics, declare

pytestmark = pytest.mark.broker

SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def clean_environment() -> dict[str, str]:
    """This process's environment without any worker setting, so only the kit's apply."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ONCOSCRUB_") and k != "KAFKA_BOOTSTRAP_SERVERS"
    }


def on_test_broker(env: dict[str, str], bootstrap: str, topics: Topics) -> dict[str, str]:
    """The kit's environment, pointed at the test broker and its own topics: the address,
    the topic names, and plaintext (the test broker has no TLS listener)."""
    out = {k: v for k, v in env.items() if "SASL" not in k and "SSL" not in k}
    out.update(topics.env())
    out["ONCOSCRUB_BOOTSTRAP_SERVERS"] = bootstrap
    out["ONCOSCRUB_SECURITY_PROTOCOL"] = "PLAINTEXT"
    return out


def run_image_command(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The image's entry point (the `oncoscrub` console script, run as its module) with these
    arguments, as `docker run IMAGE ARGS...` and a pod's `args` run it."""
    [script] = json.loads(final_stage().last("ENTRYPOINT"))
    module = SCRIPTS[script].split(":")[0]
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def assert_topology_created(bootstrap: str, topics: Topics, partitions: int) -> None:
    for spec in declare(topics).topics:
        assert len(await partitions_of(connection(bootstrap), spec.name)) == partitions, spec.name


async def test_compose_topics_service_creates_the_topology(kafka_bootstrap: str) -> None:
    service = compose()["services"]["topics"]
    topics = Topics.prefixed(f"kit-compose-{os.getpid()}.")
    env = on_test_broker(dict(service["environment"]), kafka_bootstrap, topics)
    done = run_image_command(service["command"], env)
    assert done.returncode == 0, done.stderr
    partitions = topics_create_args(service["command"])["partitions"]
    await assert_topology_created(kafka_bootstrap, topics, partitions)
    # Run again (a restart of the service): the topics exist, nothing fails.
    again = run_image_command(service["command"], env)
    assert again.returncode == 0, again.stderr


async def test_kubernetes_topics_job_creates_the_topology(kafka_bootstrap: str) -> None:
    container = topics_job()
    topics = Topics.prefixed(f"kit-k8s-{os.getpid()}.")
    env = on_test_broker(env_of(container, all_objects()), kafka_bootstrap, topics)
    # One broker here; the manifest's replication factor needs three.
    args = with_option(container["args"], "--replication", "1")
    done = run_image_command(args, env)
    assert done.returncode == 0, done.stderr
    partitions = topics_create_args(args)["partitions"]
    await assert_topology_created(kafka_bootstrap, topics, partitions)


async def exit_code(command: list[str], env: dict[str, str]) -> int:
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(proc.wait(), 30)


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (the decide pool), from /proc."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(
            int(x.split()[1]) * 1024 for x in status.splitlines() if x.startswith("VmRSS")
        )
        pids += [int(c) for c in children]
    return total


def quantity_bytes(text: str) -> int:
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
    return int(text[:-2]) * units[text[-2:]]


@pytest.fixture
def k8s_worker(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`oncoscrub worker` as the image's entry point runs it, with the pod's environment."""
    port = free_port()
    env = on_test_broker(env_of(worker_container(), all_objects()), kafka_bootstrap, topics)
    env.update(
        ONCOSCRUB_HEALTH_PORT=str(port),
        ONCOSCRUB_HEALTH_HOST="127.0.0.1",  # this test probes over loopback only
        ONCOSCRUB_GROUP_ID=f"g-{topics.submitted}",
    )
    entrypoint = json.loads(final_stage().last("ENTRYPOINT"))
    command = json.loads(final_stage().last("CMD"))
    assert worker_container()["args"] == command
    [script] = entrypoint
    module = SCRIPTS[script].split(":")[0]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *command],
            env={**clean_environment(), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc, port, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


async def test_the_pod_starts_answers_its_probes_and_stops_within_its_grace(
    kafka_bootstrap: str,
    topics: Topics,
    k8s_worker: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, log = k8s_worker
    container = worker_container()
    startup = container["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    began = time.monotonic()
    while http_status(port, startup["httpGet"]["path"]) // 100 != 2:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() - began < budget, "the startup probe would have killed it"
        await asyncio.sleep(0.5)
    started_s = time.monotonic() - began

    # Readiness once the group is joined and partitions assigned.
    ready_path = container["readinessProbe"]["httpGet"]["path"]
    while http_status(port, ready_path) != 200:
        assert time.monotonic() - began < budget, log.read_text(errors="replace")[-3000:]
        await asyncio.sleep(0.5)
    assert http_status(port, container["livenessProbe"]["httpGet"]["path"]) // 100 == 2
    annotations = one("StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    assert http_status(port, annotations["prometheus.io/path"]) == 200

    # The image's HEALTHCHECK, with the pod's port setting, passes.
    health = [sys.executable, *healthcheck_command()[1:]]
    health_env = {**clean_environment(), "ONCOSCRUB_HEALTH_PORT": str(port)}
    assert await exit_code(health, health_env) == 0

    # It decides under the pod's configuration, within the pod's memory limit.
    claims = [example_claim(i, administrations=4) for i in range(1, 41)]
    await produce(kafka_bootstrap, topics.submitted, claim_items(claims))
    await wait_for_decisions(kafka_bootstrap, topics, expected=len(claims), timeout=120)
    rss = tree_rss_bytes(proc.pid)
    limit = quantity_bytes(container["resources"]["limits"]["memory"])
    print(f"\nworker with the pod's settings: live after {started_s:.1f}s, {rss / 2**20:.0f} MiB")
    assert rss < limit, f"{rss / 2**20:.0f} MiB resident, limit {limit / 2**20:.0f} MiB"

    grace = one("StatefulSet")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, grace) == 0, log.read_text(errors="replace")[-3000:]
    assert await exit_code(health, health_env) != 0
