"""``oncoscrub topics create``: create the topology's topics on the worker's cluster.

Creates the topics ``worker.topology`` declares that do not exist yet, with their
configuration, using the worker's own Kafka settings (address, TLS, SASL), then prints every
topic as the brokers have it and runs the check a worker runs before it starts
(``worker.topic_check``): a run that exits 0 leaves topics a worker will accept.
Run it as a principal allowed to create topics (the topic administrator, not the worker).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, for_code
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console

from worker import topic_check
from worker.kafka_client import KafkaConnection
from worker.lifecycle import Exit, setting_problems
from worker.settings import Settings
from worker.topic_admin import TopicsNotCreatedError, ensure_topics
from worker.topology import Topology, declare

topics = typer.Typer(no_args_is_help=True, add_completion=False)


@topics.callback()
def _topics() -> None:
    """The topology's topics on the brokers."""


out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass(frozen=True, slots=True)
class TopicState:
    """A topic as the brokers have it."""

    name: str
    partitions: int
    replicas: int  # the replication factor (of its first partition)
    config: dict[str, str]  # every setting in force, the broker's defaults included


class BrokersUnreachableError(RuntimeError):
    """No broker answered the admin requests."""


async def describe(conn: KafkaConnection, names: Sequence[str]) -> dict[str, TopicState]:
    """The topics among ``names`` that exist."""
    admin = AIOKafkaAdminClient(**conn.options(), request_timeout_ms=15000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        present = [n for n in names if n in existing]
        if not present:
            return {}
        described = await admin.describe_topics(present)
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in present]
        )
    except (KafkaConnectionError, KafkaTimeoutError) as exc:
        raise BrokersUnreachableError(
            f"the brokers at {conn.bootstrap_servers} did not answer ({type(exc).__name__})"
        ) from None
    except KafkaError as exc:  # an answer, but a refusal: ACLs most likely
        reason = type(exc).__name__
        raise TopicsNotCreatedError(f"they cannot be described ({reason})") from None
    finally:
        await admin.close()
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for _error, _message, _kind, name, entries in response.resources:
            configs[name] = {entry[0]: entry[1] for entry in entries}
    states = {}
    for d in described:
        parts = d["partitions"]
        replicas = len(parts[0]["replicas"]) if parts else 0
        states[d["topic"]] = TopicState(d["topic"], len(parts), replicas, configs[d["topic"]])
    return states


async def create(
    settings: Settings, partitions: int, replication: int
) -> tuple[Topology, dict[str, TopicState], set[str]]:
    """Create what is missing; the topics afterwards, and the names created now."""
    topology = declare(settings.topics, settings.evidence_retention_ms)
    names = [t.name for t in topology.topics]
    conn = settings.kafka
    before = await describe(conn, names)
    try:
        await ensure_topics(conn, topology.topic_configs(), partitions, replication)
    except KafkaError as exc:
        # The brokers answered the description: a refusal (ACLs, a replication factor larger
        # than the cluster), not an outage.
        raise TopicsNotCreatedError(type(exc).__name__) from None
    after = await visible(conn, names)
    missing = [n for n in names if n not in after]
    if missing:
        # ensure_topics does not read the brokers' answer per topic: ask again, validating
        # only, to say why.
        why = await refusals(conn, topology, missing, partitions, replication)
        raise TopicsNotCreatedError(
            "; ".join(f"{name}: {why.get(name, 'not created')}" for name in missing)
        )
    return topology, after, set(after) - set(before)


async def visible(
    conn: KafkaConnection, names: Sequence[str], wait_s: float = 10.0
) -> dict[str, TopicState]:
    """The topics, once all are in the brokers' metadata or ``wait_s`` has passed: a topic
    just created may take a moment to appear there."""
    deadline = time.monotonic() + wait_s
    while True:
        states = await describe(conn, names)
        if len(states) == len(names) or time.monotonic() > deadline:
            return states
        await asyncio.sleep(0.2)


async def refusals(
    conn: KafkaConnection, topology: Topology, names: list[str], partitions: int, replication: int
) -> dict[str, str]:
    """Why the brokers refuse to create these topics, by name (a dry run)."""
    configs = topology.topic_configs()
    admin = AIOKafkaAdminClient(**conn.options(), request_timeout_ms=15000)
    try:
        await admin.start()
        response = await admin.create_topics(
            [NewTopic(n, partitions, replication, topic_configs=configs[n]) for n in names],
            validate_only=True,
        )
    except KafkaError as exc:
        return dict.fromkeys(names, type(exc).__name__)
    finally:
        await admin.close()
    why: dict[str, str] = {}
    for topic, code, *message in response.topic_errors:
        if code:
            text = message[0] if message and message[0] else ""
            why[topic] = f"{for_code(code).__name__}" + (f" ({text})" if text else "")
    return why


def retention(config: dict[str, str]) -> str:
    """retention.ms for a person: forever, days or hours, else milliseconds."""
    value = config.get("retention.ms", "")
    if value == "-1":
        return "forever"
    if not value.isdigit():
        return value or "?"
    ms = int(value)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def table(topology: Topology, states: dict[str, TopicState], created: set[str]) -> list[str]:
    """One line per declared topic, in declaration order; fits 80 columns."""
    width = max(len(t.name) for t in topology.topics)
    head = f"{'topic':<{width}}  {'parts':>5}  {'repl':>4}  {'cleanup':<7}  {'retention':<9}  state"
    lines = [head]
    for spec in topology.topics:
        state = states.get(spec.name)
        if state is None:
            lines.append(f"{spec.name:<{width}}  {'-':>5}  {'-':>4}  {'-':<7}  {'-':<9}  missing")
            continue
        cleanup = state.config.get("cleanup.policy", "?")
        status = "created" if spec.name in created else "existed"
        lines.append(
            f"{spec.name:<{width}}  {state.partitions:>5}  {state.replicas:>4}  "
            f"{cleanup:<7}  {retention(state.config):<9}  {status}"
        )
    return lines


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.kafka  # noqa: B018 -- the connection settings are checked as they are built
    except (ValidationError, SettingsError) as exc:
        for p in setting_problems(exc):
            err.print(f"error: {p.setting or 'settings'}: {p.problem}")
        raise typer.Exit(int(Exit.CONFIG_INVALID)) from None
    return settings


@topics.command("create")
def create_cmd(
    partitions: Annotated[
        int,
        typer.Option(
            min=1,
            help="Partitions of each topic created (all share it: the audit and state topics "
            "mirror the input's partitions). At most this many workers share the work.",
        ),
    ] = 3,
    replication: Annotated[
        int,
        typer.Option(min=1, help="Replication factor of each topic created (3 in production)."),
    ] = 1,
) -> None:
    """Create the missing topics, list them all, check them as a worker does at start.

    Topics that exist are left as they are. Exit codes: 0 the topics are as a worker needs
    them; 1 a topic could not be created or fails the worker's check; 2 the settings are
    invalid; 3 the brokers did not answer.
    """
    settings = _settings()
    # aiokafka logs each failed connection attempt; the outcome is reported here, once.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        topology, states, created = asyncio.run(create(settings, partitions, replication))
    except BrokersUnreachableError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(int(Exit.BROKER_UNREACHABLE)) from None
    except TopicsNotCreatedError as exc:
        err.print(f"error: the topics could not be created: {exc}")
        raise typer.Exit(int(Exit.FAILED)) from None
    for line in table(topology, states, created):
        out.print(line, markup=False)
    actual = {name: (s.partitions, s.config) for name, s in states.items()}
    problems = topic_check.problems(topology, settings, actual)
    for problem in problems:
        err.print(f"error: {problem}", markup=False)
    if problems:
        raise typer.Exit(int(Exit.FAILED))
    out.print(f"{len(created)} created, {len(states) - len(created)} existed", markup=False)
