"""The AsyncAPI document, written from the topology: one channel per topic, the
operation's action the worker's direction, the message its schema.

FastStream writes the document from a broker's subscribers and publishers. These
live on a broker of their own that is never started: a subscriber on the app's
broker would consume the topic, while the claims are consumed by the processor's
transactional loop.
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema
from faststream.specification.base import Specification

from worker.topology import Direction, TopicSpec, Topology


def _describe(topic: TopicSpec) -> str:
    writer = "" if topic.writer == "the worker" else f" Written by {topic.writer}."
    return f"{topic.description}{writer} Key: {topic.key}. Partition: {topic.partitioning.value}."


def _documenting_broker(topology: Topology, bootstrap: str) -> KafkaBroker:
    broker = KafkaBroker(bootstrap, client_id="oncoscrub-docs")
    for topic in topology.topics:
        if topic.direction is Direction.RECEIVE:

            async def receive(message: Any) -> None:
                """Never called: the broker is never started."""

            # FastStream takes a subscriber's message schema from its handler's annotation.
            receive.__annotations__ = {"message": topic.schema, "return": None}
            broker.subscriber(topic.name, title=topic.name, description=_describe(topic))(receive)
        else:
            broker.publisher(
                topic.name, title=topic.name, description=_describe(topic), schema=topic.schema
            )
    return broker


class TopologyDocument(AsyncAPI):
    """FastStream's AsyncAPI 3 document, with each message's headers as the topology
    declares them: those the worker writes, and no others."""

    def __init__(self, topology: Topology, bootstrap: str, **info: Any) -> None:
        super().__init__(_documenting_broker(topology, bootstrap), schema_version="3.0.0", **info)
        self._topics = {t.name: t for t in topology.topics}

    def to_specification(self) -> Specification:
        spec = super().to_specification()
        assert isinstance(spec, ApplicationSchema)
        messages = spec.components.messages if spec.components is not None else None
        for name, message in list((messages or {}).items()):
            topic = self._topics.get(name.partition(":")[0])
            # FastStream names a correlation_id header in every message; nothing writes one.
            message.correlationId = None
            if messages is not None and topic is not None and topic.headers:
                messages[name] = message.model_copy(update={"headers": _headers_schema(topic)})
        return spec


def _headers_schema(topic: TopicSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {h.name: {"type": "string", "description": h.meaning} for h in topic.headers},
        "required": [h.name for h in topic.headers],
    }
