"""docker-compose.yml against the Compose Specification's schema (vendored), and what the
schema cannot see: listeners each side can reach, the single-node transaction settings the
project's own broker uses, restart policies, the volume, ports for every replica."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from deploy.localkafka import LocalKafka, kafka_version
from tests.deploy.kit import SCHEMAS, compose, topics_create_args

SERVICES = compose()["services"]
KAFKA_ENV: dict[str, Any] = SERVICES["kafka"]["environment"]


def broker_property(env_name: str) -> str:
    """apache/kafka's image maps KAFKA_FOO_BAR to foo.bar."""
    return env_name.removeprefix("KAFKA_").lower().replace("_", ".")


def listeners(value: str) -> dict[str, tuple[str, int]]:
    out = {}
    for item in value.split(","):
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        out[name] = (host, int(port))
    return out


def test_valid_against_the_compose_spec_schema() -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_schema_rejects_what_compose_would() -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text(encoding="utf-8"))
    broken = compose()
    broken["services"]["worker"]["stop_grace_period"] = {"seconds": 45}
    broken["services"]["kafka"]["healtcheck"] = broken["services"]["kafka"].pop("healthcheck")
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    assert len(errors) == 2


def test_kafka_image_is_the_version_the_project_tests_against() -> None:
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{kafka_version()}"


def test_host_and_internal_listeners_each_reachable_from_their_side() -> None:
    bound = listeners(KAFKA_ENV["KAFKA_LISTENERS"])
    advertised = listeners(KAFKA_ENV["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(
        p.split(":") for p in KAFKA_ENV["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    controller = KAFKA_ENV["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert set(bound) == set(protocols)
    assert set(advertised) == set(bound) - {controller}
    assert KAFKA_ENV["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    # Containers: the advertised host is the service name, on the port the listener binds.
    inside = [n for n, (host, _) in advertised.items() if host == "kafka"]
    assert len(inside) == 1
    for service in ("worker", "topics"):
        env = SERVICES[service]["environment"]
        assert env["ONCOSCRUB_BOOTSTRAP_SERVERS"] == f"kafka:{bound[inside[0]][1]}"
    # The host: the advertised address is the host's loopback, on a published port that maps
    # to the port the listener binds.
    outside = [n for n, (host, _) in advertised.items() if host in {"127.0.0.1", "localhost"}]
    assert len(outside) == 1
    published = [p.split(":") for p in SERVICES["kafka"]["ports"]]
    assert [advertised[outside[0]][1], bound[outside[0]][1]] in [
        [int(host_port), int(container_port)] for _, host_port, container_port in published
    ]


def test_the_single_node_settings_of_the_projects_own_broker() -> None:
    """The settings that make transactions and groups work on one node, with the values the
    local broker (deploy/localkafka.py) runs the tests with."""
    wanted = {
        key: value
        for key, value in (
            line.split("=", 1)
            for line in LocalKafka().server_properties(Path("/x"), 1, 2).splitlines()
        )
        if "replication.factor" in key
        or key.endswith("min.isr")
        or key in {"group.initial.rebalance.delay.ms", "replica.fetch.max.bytes"}
    }
    assert len(wanted) >= 6
    have = {broker_property(k): str(v) for k, v in KAFKA_ENV.items() if k.startswith("KAFKA_")}
    missing = {k: v for k, v in wanted.items() if have.get(k) != v}
    assert missing == {}
    assert have["auto.create.topics.enable"] == "false"


def test_the_data_outlives_the_container() -> None:
    [mount] = SERVICES["kafka"]["volumes"]
    volume, _, path = mount.partition(":")
    assert volume in compose()["volumes"]
    assert KAFKA_ENV["KAFKA_LOG_DIRS"] == path
    # A formatted log directory remembers its cluster id: a fixed, valid one.
    assert len(base64.urlsafe_b64decode(KAFKA_ENV["CLUSTER_ID"] + "==")) == 16


@pytest.mark.parametrize("service", ["kafka", "topics", "worker"])
def test_restart_policies(service: str) -> None:
    policy = SERVICES[service]["restart"]
    assert re.fullmatch(r"always|unless-stopped|on-failure(:\d+)?", policy), policy


def test_each_worker_replica_publishes_its_health_port() -> None:
    worker = SERVICES["worker"]
    replicas = worker["deploy"]["replicas"]
    container_port = worker["environment"]["ONCOSCRUB_HEALTH_PORT"]
    [port] = worker["ports"]
    match = re.fullmatch(r"127\.0\.0\.1:(\d+)-(\d+):(\d+)", port)
    assert match, port
    low, high, target = (int(g) for g in match.groups())
    assert high - low + 1 >= replicas
    assert str(target) == container_port
    assert replicas <= topics_create_args(SERVICES["topics"]["command"])["partitions"]


def test_the_topics_service_runs_the_images_topics_command() -> None:
    """`oncoscrub topics create` through the image's entry point (no inline script), on a
    replication factor the one broker can hold."""
    service = SERVICES["topics"]
    assert "entrypoint" not in service
    assert service["build"] == SERVICES["worker"]["build"]
    options = topics_create_args(service["command"])
    assert options["replication"] == 1


def test_start_order_waits_for_a_healthy_broker_and_the_topics() -> None:
    assert SERVICES["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert SERVICES["worker"]["depends_on"] == {
        "topics": {"condition": "service_completed_successfully"}
    }
    grace = SERVICES["worker"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) > 30, "the worker drains for up to 30 s after SIGTERM"


# Resident memory measured on a worker after 200 claims: ~95 MiB for the Kafka loop and its
# helpers, ~160 MiB for each decide process (each holds the rule pack).
LOOP_MIB, PER_DECIDE_PROCESS_MIB = 95, 160


def test_the_decide_pool_is_sized_for_the_memory_limit() -> None:
    """The pool's default is the host's core count: set, or a large host outgrows the limit."""
    worker = SERVICES["worker"]
    processes = int(worker["environment"]["ONCOSCRUB_DECIDE_PROCESSES"])
    limit_mib = int(worker["deploy"]["resources"]["limits"]["memory"].removesuffix("g")) * 1024
    assert processes >= 1
    assert LOOP_MIB + processes * PER_DECIDE_PROCESS_MIB < limit_mib
