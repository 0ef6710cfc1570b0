"""`oncoscrub topics create` on real brokers: the local one (PLAINTEXT), and a second one that
speaks only SASL_SSL with Kafka's authorizer on, where the command runs as the topic
administrator with exactly the ACLs docs/operations.md gives it."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploy.kafkatools import connection, connection_env
from deploy.local_pki import make_pki
from deploy.localkafka import LocalKafka, SecureListeners
from tests.kafka_acls import apply, documented_acls
from worker.cli_topics import TopicState, describe, visible
from worker.cli_topics import topics as topics_app
from worker.kafka_client import KafkaConnection
from worker.topic_admin import ensure_topics
from worker.topology import Topics, declare

pytestmark = pytest.mark.broker

TOPIC_ADMIN = "oncoscrub-topic-admin"
SUPER = "tester"


def topics_env(cluster: str | KafkaConnection, topics: Topics) -> dict[str, str]:
    """The command's whole environment: this one's, without any worker setting, plus these."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ONCOSCRUB_", "OTEL_")) and k != "KAFKA_BOOTSTRAP_SERVERS"
    }
    return {**env, **connection_env(cluster), **topics.env()}


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(topics_app, args, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def on_brokers(conn: KafkaConnection, topics: Topics) -> dict[str, TopicState]:
    return asyncio.run(describe(conn, [t.name for t in declare(topics).topics]))


def assert_as_declared(states: dict[str, TopicState], topics: Topics, partitions: int) -> None:
    """Every topic exists with the partitions asked for and its declared configuration."""
    wanted = declare(topics).topic_configs()
    assert set(states) == set(wanted)
    for name, config in wanted.items():
        assert states[name].partitions == partitions, name
        assert states[name].replicas == 1, name
        assert {k: states[name].config.get(k) for k in config} == dict(config), name


def rows(stdout: str) -> dict[str, list[str]]:
    """The table's lines by topic name."""
    lines = stdout.splitlines()[1:]  # the header first; the count of created ones last
    return {cells[0]: cells[1:] for line in lines if len(cells := line.split()) == 6}


def test_creates_the_topology_then_finds_it_on_a_second_run(kafka_bootstrap: str) -> None:
    topics = Topics.prefixed(f"cmd-create-{os.getpid()}.")
    env = topics_env(kafka_bootstrap, topics)
    code, out, err = run(["create", "--partitions", "2"], env)
    assert code == 0, err
    names = [t.name for t in declare(topics).topics]
    assert_as_declared(on_brokers(connection(kafka_bootstrap), topics), topics, 2)
    table = rows(out)
    assert list(table) == names
    assert {r[-1] for r in table.values()} == {"created"}
    assert table[topics.audit][:4] == ["2", "1", "delete", "forever"]
    assert table[topics.chain_heads_changelog][2] == "compact"
    assert out.splitlines()[-1] == f"{len(names)} created, 0 existed"

    # A restart of the job: nothing to create, the same topics, exit 0.
    code, out, err = run(["create", "--partitions", "2"], env)
    assert code == 0, err
    assert {r[-1] for r in rows(out).values()} == {"existed"}
    assert out.splitlines()[-1] == f"0 created, {len(names)} existed"


def test_defaults_are_three_partitions_and_one_replica(kafka_bootstrap: str) -> None:
    topics = Topics.prefixed(f"cmd-defaults-{os.getpid()}.")
    code, _, err = run(["create"], topics_env(kafka_bootstrap, topics))
    assert code == 0, err
    assert_as_declared(on_brokers(connection(kafka_bootstrap), topics), topics, 3)


def test_a_replication_factor_the_cluster_cannot_hold_is_refused_by_name(
    kafka_bootstrap: str,
) -> None:
    topics = Topics.prefixed(f"cmd-replication-{os.getpid()}.")
    code, out, err = run(["create", "--replication", "3"], topics_env(kafka_bootstrap, topics))
    assert code == 1
    assert out == ""
    assert "could not be created" in err
    assert f"{topics.submitted}: InvalidReplicationFactorError" in err
    assert on_brokers(connection(kafka_bootstrap), topics) == {}


def test_topics_a_worker_would_refuse_fail_the_command(kafka_bootstrap: str) -> None:
    """An audit topic created earlier by hand, compacted: left as it is, but exit 1 with the
    worker's own words for it."""
    topics = Topics.prefixed(f"cmd-refused-{os.getpid()}.")
    conn = connection(kafka_bootstrap)
    audit = {**declare(topics).topic_configs()[topics.audit], "cleanup.policy": "compact"}
    asyncio.run(ensure_topics(conn, {topics.audit: audit}, partitions=2))
    asyncio.run(visible(conn, [topics.audit]))  # in the metadata before the command looks
    code, out, err = run(["create", "--partitions", "2"], topics_env(conn, topics))
    assert code == 1
    assert rows(out)[topics.audit][-1] == "existed"
    assert f"topic {topics.audit}: cleanup.policy must be delete, never compact" in err
    assert on_brokers(conn, topics)[topics.audit].config["cleanup.policy"] == "compact"


def test_invalid_settings_exit_2_naming_the_variable() -> None:
    env = {**topics_env("127.0.0.1:9", Topics()), "ONCOSCRUB_SECURITY_PROTOCOL": "SASL_SSL"}
    code, out, err = run(["create"], env)
    assert code == 2
    assert "ONCOSCRUB_SASL_MECHANISM is required" in err
    assert out == ""


def test_unreachable_brokers_exit_3_in_one_line() -> None:
    with_nothing_listening = "127.0.0.1:9"
    code, out, err = run(["create"], topics_env(with_nothing_listening, Topics()))
    assert code == 3
    assert err.splitlines() == [
        f"error: the brokers at {with_nothing_listening} did not answer (KafkaConnectionError)"
    ]
    assert out == ""


# -- over SASL_SSL, as the topic administrator -----------------------------------------------


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalKafka, Path]]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    users = {TOPIC_ADMIN: secrets.token_urlsafe(18), SUPER: secrets.token_urlsafe(18)}
    listeners = SecureListeners(pki.server, pki.ca, users, super_users=(f"User:{SUPER}",))
    kafka = LocalKafka(topics={}, secure=listeners).start()
    try:
        mine = [a for a in documented_acls() if a.principal == f"User:{TOPIC_ADMIN}"]
        assert mine, "docs/operations.md gives the topic administrator no ACL"
        asyncio.run(apply(kafka.connection, mine))
        yield kafka, pki.ca
    finally:
        kafka.stop()


def test_over_scram_and_tls_with_the_documented_acls(
    secure_broker: tuple[LocalKafka, Path],
) -> None:
    """Run as the image runs it (the console script), with the worker's security settings."""
    kafka, ca = secure_broker
    listeners = kafka.secure
    assert listeners is not None
    admin = KafkaConnection(
        bootstrap_servers=kafka.sasl_ssl_bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=TOPIC_ADMIN,
        sasl_password=listeners.users[TOPIC_ADMIN],
        ssl_cafile=ca,
    )
    topics = Topics()  # the default names: the documented ACLs are written for them
    command = [sys.executable, "-m", "worker.cli"]
    args = ["topics", "create", "--partitions", "2"]
    done = subprocess.run(
        [*command, *args],
        env=topics_env(admin, topics),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert_as_declared(on_brokers(kafka.connection, topics), topics, 2)
    assert {r[-1] for r in rows(done.stdout).values()} == {"created"}
    # With the default names, the table fits a terminal of 80 columns.
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
