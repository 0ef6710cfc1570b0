"""The launcher's broker settings that exactly-once depends on."""

from __future__ import annotations

from pathlib import Path

from deploy.localkafka import LocalKafka, kafka_version


def test_single_node_transaction_settings_are_present() -> None:
    props = dict(
        line.split("=", 1)
        for line in LocalKafka().server_properties(Path("/data"), 9092, 9093).splitlines()
    )
    # Without these three, producers hang in InitProducerId on a one-node cluster.
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"


def test_the_kafka_version_comes_from_the_pom() -> None:
    assert kafka_version().startswith("4.")


def test_cluster_ids_never_start_with_a_dash() -> None:
    from deploy.localkafka import _cluster_id

    ids = [_cluster_id() for _ in range(5000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)


def test_compose_broker_carries_the_single_node_transaction_settings() -> None:
    import yaml

    compose = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    )
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == 1
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 1
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1
    # The compose broker and the launcher run the same Kafka release.
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{kafka_version()}"
