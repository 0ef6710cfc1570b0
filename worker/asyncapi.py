"""The AsyncAPI document, written from the topology: one channel per topic, the
operation's action the worker's direction, the message its schema.

FastStream writes the document from a broker's subscribers and publishers. These
live on a broker of their own that is never started: a subscriber on the app's
broker would consume the topic, while the claims are consumed by the processor's
transactional loop.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
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
        "required": [h.name for h in topic.headers if h.required],
    }


# -- the page ---------------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}h3{margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}code{font-size:90%}.action{font-weight:bold;text-transform:uppercase}
.receive{color:#0a5}.send{color:#05a}.muted{color:#666}
"""


def _schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_of(schema: Mapping[str, Any]) -> str:
    """A JSON Schema's type in a few words, with links to named schemas."""
    if "$ref" in schema:
        name = _schema_name(schema["$ref"])
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " | ".join(_type_of(s) for s in schema[key])
    if "enum" in schema:
        return "one of " + ", ".join(
            f"<code>{escape(json.dumps(v))}</code>" for v in schema["enum"]
        )
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"map to {_type_of(schema['additionalProperties'])}"
    shown = escape(" | ".join(kind) if isinstance(kind, list) else str(kind))
    if "format" in schema:
        shown += f" ({escape(str(schema['format']))})"
    return shown


def _properties_table(schema: Mapping[str, Any]) -> str:
    props: Mapping[str, Mapping[str, Any]] = schema.get("properties", {})
    if not props:
        return f'<p class="muted">{_type_of(schema)}</p>'
    required = set(schema.get("required", ()))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{_type_of(p)}</td>"
        f"<td>{'yes' if name in required else ''}</td>"
        f"<td>{escape(str(p.get('description', '')))}</td></tr>"
        for name, p in props.items()
    )
    return (
        "<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>"
        f"{rows}</table>"
    )


def render_html(doc: Mapping[str, Any]) -> str:
    """The AsyncAPI document as one self-contained page: no script, no stylesheet or font
    from elsewhere, so it shows on a closed network. Channels with the worker's action,
    the message's schema and headers, then every schema's fields."""
    info = doc.get("info", {})
    messages: Mapping[str, Any] = doc.get("components", {}).get("messages", {})
    actions = {
        op["channel"]["$ref"].rsplit("/", 1)[-1]: op["action"]
        for op in doc.get("operations", {}).values()
    }
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(info.get('title', 'AsyncAPI'))} {escape(info.get('version', ''))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', ''))}</h1>",
        f"<p class='muted'>version {escape(info.get('version', ''))} · AsyncAPI "
        f"{escape(doc.get('asyncapi', ''))} · "
        "<a href='asyncapi.json'>the document as JSON</a></p>",
        f"<p>{escape(info.get('description', ''))}</p>",
        "<h2>Topics</h2>",
        "<table><tr><th>topic</th><th>the worker</th><th>message</th></tr>",
    ]
    for name, channel in doc.get("channels", {}).items():
        action = actions.get(name, "")
        refs = [m["$ref"] for m in channel.get("messages", {}).values()]
        payloads = [messages[_schema_name(r)].get("payload", {}) for r in refs]
        parts.append(
            f"<tr><td><a href='#channel-{escape(name)}'><code>{escape(channel['address'])}"
            f"</code></a></td><td class='action {escape(action)}'>{escape(action)}s</td>"
            f"<td>{', '.join(_type_of(p) for p in payloads)}</td></tr>"
        )
    parts.append("</table>")
    for name, channel in doc.get("channels", {}).items():
        action = actions.get(name, "")
        parts += [
            f"<h3 id='channel-{escape(name)}'><code>{escape(channel['address'])}</code> "
            f"<span class='action {escape(action)}'>{escape(action)}</span></h3>",
            f"<p>{escape(channel.get('description', ''))}</p>",
        ]
        for ref in (m["$ref"] for m in channel.get("messages", {}).values()):
            message = messages[_schema_name(ref)]
            parts.append(f"<p>Value: {_type_of(message.get('payload', {}))}</p>")
            headers = message.get("headers")
            if headers:
                parts += ["<p>Headers:</p>", _properties_table(headers)]
            else:
                parts.append("<p class='muted'>No headers.</p>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        parts += [
            f"<h3 id='schema-{escape(name)}'>{escape(name)}</h3>",
            f"<p>{escape(str(schema.get('description', '')))}</p>",
            _properties_table(schema),
        ]
    parts.append("</body></html>")
    return "\n".join(parts)
