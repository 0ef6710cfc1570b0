"""What the worker checks of its topics on the brokers before it joins the group.

The size arithmetic (``worker.limits``) holds only if the brokers' topics take the
records it bounds, and the audit chain is only evidence if its topics keep it. So at
start-up the worker reads each topic's actual configuration (``DescribeConfigs``: the
topic's own value or the broker default in force) and refuses to start, naming the
topic, the setting, what it is and what it must be, when:

* a topic is missing, or the topics the worker mirrors partition by partition have
  fewer partitions than the input topic;
* the dead-letter topic cannot take the largest record the input topic accepts plus
  the worker's headers, or a decision or audit topic the largest decision, or the
  producer's request limit the largest record it writes;
* the audit or checkpoint topic is compacted, deletes by size, or keeps records for
  another time than configured (``ONCOSCRUB_EVIDENCE_RETENTION_MS``, forever by
  default); a store's changelog is not compacted.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from worker import limits
from worker.kafka_client import KafkaConnection
from worker.settings import Settings
from worker.topology import Partitioning, TopicSpec, Topology


class TopicsRefusedError(RuntimeError):
    """The brokers' topics do not hold what the worker relies on."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _worker_topics(topology: Topology) -> list[TopicSpec]:
    """The topics the worker reads or writes (the review app checks its own)."""
    return [
        topology.submitted, topology.scrubbed, topology.review, topology.dead_letter,
        topology.audit, topology.audit_checkpoints, *(s.changelog for s in topology.stores),
        topology.by_patient,
    ]  # fmt: skip


async def describe(
    conn: KafkaConnection, topics: list[str]
) -> dict[str, tuple[int, dict[str, str]]]:
    """Partition count and configuration of each topic that exists."""
    admin = AIOKafkaAdminClient(**conn.options(), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [t for t in topics if t in existing]
        if not present:
            return {}
        described = await admin.describe_topics(present)
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in present]
        )
    finally:
        await admin.close()
    partitions = {d["topic"]: len(d["partitions"]) for d in described}
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for _error, _message, _kind, name, entries in response.resources:
            configs[name] = {entry[0]: entry[1] for entry in entries}
    return {t: (partitions[t], configs.get(t, {})) for t in present}


def problems(
    topology: Topology, settings: Settings, actual: Mapping[str, tuple[int, Mapping[str, str]]]
) -> list[str]:
    """Everything the brokers' topics lack; empty when the worker may start."""
    found: list[str] = []
    wanted = _worker_topics(topology)
    missing = [t.name for t in wanted if t.name not in actual]
    if missing:
        return [f"topic {name} does not exist: create the topology's topics first"
                for name in missing]  # fmt: skip

    def size(topic: TopicSpec) -> int:
        return int(actual[topic.name][1].get("max.message.bytes", "0"))

    def need(topic: TopicSpec, at_least: int, why: str) -> None:
        if size(topic) < at_least:
            found.append(
                f"topic {topic.name}: max.message.bytes is {size(topic)}, must be at least "
                f"{at_least} ({why})"
            )

    inputs = size(topology.submitted)
    need(topology.dead_letter, limits.dead_letter_topic_bytes(inputs),
         f"the largest record {topology.submitted.name} accepts, {inputs} bytes, "
         "plus the dead-letter headers")  # fmt: skip
    decision = limits.decision_topic_bytes(settings.max_decision_bytes)
    for topic in (topology.scrubbed, topology.review, topology.audit):
        need(topic, decision, f"ONCOSCRUB_MAX_DECISION_BYTES {settings.max_decision_bytes} "
             "plus the record's key and framing")  # fmt: skip
    largest = max(limits.dead_letter_topic_bytes(inputs), decision)
    if settings.max_request_bytes < largest:
        found.append(
            f"ONCOSCRUB_MAX_REQUEST_BYTES is {settings.max_request_bytes}, must be at least "
            f"{largest}: the producer would refuse the largest record the worker writes"
        )

    for topic in (topology.audit, topology.audit_checkpoints):
        config = actual[topic.name][1]
        if "compact" in config.get("cleanup.policy", ""):
            found.append(f"topic {topic.name}: cleanup.policy must be delete, never compact")
        retention = config.get("retention.ms")
        if retention != str(settings.evidence_retention_ms):
            found.append(
                f"topic {topic.name}: retention.ms is {retention}, must be "
                f"{settings.evidence_retention_ms} (ONCOSCRUB_EVIDENCE_RETENTION_MS; -1 keeps "
                "the audit log for ever)"
            )
        if config.get("retention.bytes") != "-1":
            found.append(
                f"topic {topic.name}: retention.bytes is {config.get('retention.bytes')}, "
                "must be -1 (an audit log is never cut by size)"
            )
    for store in topology.stores:
        policy = actual[store.changelog.name][1].get("cleanup.policy", "")
        if "compact" not in policy:
            found.append(f"topic {store.changelog.name}: cleanup.policy must be compact")

    decided = topology.decided_input(settings.by_patient)
    count = actual[decided.name][0]
    for topic in wanted:
        mirrored = topic.partitioning is Partitioning.INPUT
        if mirrored and actual[topic.name][0] < count:
            found.append(
                f"topic {topic.name}: {actual[topic.name][0]} partition(s), needs "
                f"{count} (one per partition of {decided.name})"
            )
    return found


async def check(topology: Topology, settings: Settings) -> None:
    """Raise ``TopicsRefusedError`` with every problem found."""
    names = [t.name for t in _worker_topics(topology)]
    found = problems(topology, settings, await describe(settings.kafka, names))
    if found:
        raise TopicsRefusedError(found)
