"""Tracing: spans per transaction, W3C trace context from input headers to output headers,
recorded by the SDK into an in-memory exporter."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from worker.tracing import (
    Tracing,
    TracingConfigError,
    exporter_from_env,
    input_context,
    tracing_from_env,
)

TOPIC = "claims.submitted"
TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"
SPAN_A = "00f067aa0ba902b7"
SPAN_B = "b7ad6b7169203331"


def traceparent(trace_id: str, span_id: str) -> tuple[str, bytes]:
    return ("traceparent", f"00-{trace_id}-{span_id}-01".encode())


@pytest.fixture
def recorded() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider), exporter


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    named = {s.name: s for s in spans}
    assert len(named) == len(spans)
    return named


def parsed(headers: tuple[tuple[str, bytes], ...]) -> tuple[str, str]:
    """(trace id, span id) of a traceparent header."""
    [value] = [v for k, v in headers if k == "traceparent"]
    _version, trace_id, span_id, _flags = value.decode().split("-")
    return trace_id, span_id


def test_one_traced_input_is_continued_and_its_outputs_carry_the_transactions_span(
    recorded: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = recorded
    inputs = [(traceparent(TRACE_A, SPAN_A), ("tracestate", b"vendor=1"))]
    with tracing.transaction(TOPIC, 2, inputs, first_offset=40) as txn:
        with txn.decide():
            pass
        out = txn.headers_for(inputs[0])
        with txn.commit(records=1):
            pass
    spans = by_name(exporter)
    process, decide, commit = spans[f"process {TOPIC}"], spans["decide"], spans["commit"]
    assert process.kind is SpanKind.CONSUMER
    assert format(process.context.trace_id, "032x") == TRACE_A
    assert process.parent is not None and format(process.parent.span_id, "016x") == SPAN_A
    assert process.links == ()
    for child in (decide, commit):
        assert child.context.trace_id == process.context.trace_id
        assert child.parent is not None and child.parent.span_id == process.context.span_id
    assert process.attributes is not None
    assert process.attributes["messaging.destination.name"] == TOPIC
    assert process.attributes["messaging.destination.partition.id"] == "2"
    assert process.attributes["messaging.kafka.offset"] == 40
    assert process.attributes["messaging.batch.message_count"] == 1
    assert parsed(out) == (TRACE_A, format(process.context.span_id, "016x"))
    assert dict(out)["tracestate"] == b"vendor=1"  # the trace's vendors' state goes on
    assert txn.traceparent_for(inputs[0]) == dict(out)["traceparent"].decode()


def test_inputs_from_several_traces_start_a_trace_linked_to_each(
    recorded: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = recorded
    inputs = [[traceparent(TRACE_A, SPAN_A)], [traceparent(TRACE_B, SPAN_B)], [], None]
    with tracing.transaction(TOPIC, 0, inputs, first_offset=0) as txn:
        outs = [txn.headers_for(h) for h in inputs]
    process = by_name(exporter)[f"process {TOPIC}"]
    assert process.parent is None
    linked = {(format(lk.context.trace_id, "032x"), format(lk.context.span_id, "016x"))
              for lk in process.links}  # fmt: skip
    assert linked == {(TRACE_A, SPAN_A), (TRACE_B, SPAN_B)}
    own = format(process.context.trace_id, "032x")
    assert own not in (TRACE_A, TRACE_B)
    # Every output, traced input or not, continues from the transaction's span.
    assert {parsed(o) for o in outs} == {(own, format(process.context.span_id, "016x"))}


def test_untraced_inputs_give_a_root_span_without_links(
    recorded: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = recorded
    bad = [("traceparent", b"00-not-a-trace-01"), ("traceparent", b"\xff\xfe")]
    with tracing.transaction(TOPIC, 0, [None, [], bad], first_offset=0):
        pass
    process = by_name(exporter)[f"process {TOPIC}"]
    assert process.parent is None and process.links == ()


def test_an_abort_and_an_exception_mark_the_spans_as_errors(
    recorded: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = recorded
    with tracing.transaction(TOPIC, 0, [None], first_offset=0) as txn:
        with pytest.raises(TimeoutError), txn.commit(records=1):
            raise TimeoutError
        txn.aborted("KafkaTimeoutError")
    spans = by_name(exporter)
    commit, process = spans["commit"], spans[f"process {TOPIC}"]
    assert commit.status.status_code is StatusCode.ERROR
    assert [e.name for e in commit.events] == ["exception"]
    assert process.status.status_code is StatusCode.ERROR
    assert (
        process.attributes is not None and process.attributes["error.type"] == "KafkaTimeoutError"
    )


def test_off_no_span_and_each_output_carries_its_own_inputs_context() -> None:
    tracing = Tracing(None)
    assert not tracing.enabled
    a = [traceparent(TRACE_A, SPAN_A), ("TraceState", b"k=v"), ("x-other", b"1")]
    b = [traceparent(TRACE_B, SPAN_B)]
    with tracing.transaction(TOPIC, 0, [a, b, None], first_offset=0) as txn:
        with txn.decide(), txn.commit(records=3):
            pass
        assert txn.headers_for(a) == (a[0], ("tracestate", b"k=v"))
        assert txn.headers_for(b) == (b[0],)
        assert txn.headers_for(None) == ()
        assert txn.headers_for([("traceparent", b"garbage")]) == ()
        assert txn.traceparent_for(b) == b[0][1].decode()
        assert txn.traceparent_for(None) is None


def test_input_context_reads_only_valid_w3c_headers() -> None:
    ctx = input_context([traceparent(TRACE_A, SPAN_A)])
    assert ctx is not None and ctx.is_remote and format(ctx.trace_id, "032x") == TRACE_A
    assert input_context([("traceparent", b"00-" + b"0" * 32 + b"-" + b"0" * 16 + b"-01")]) is None
    assert input_context(None) is None


# -- configuration -------------------------------------------------------------------------------


def test_off_unless_an_exporter_or_endpoint_is_configured() -> None:
    assert exporter_from_env({}) is None
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert isinstance(exporter_from_env(endpoint), OTLPSpanExporter)
    traces_endpoint = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}
    assert isinstance(exporter_from_env(traces_endpoint), OTLPSpanExporter)
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "otlp"}), OTLPSpanExporter)
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)
    assert exporter_from_env({**endpoint, "OTEL_TRACES_EXPORTER": "none"}) is None
    assert exporter_from_env({**endpoint, "OTEL_SDK_DISABLED": "true"}) is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        ),
    ],
)
def test_what_the_worker_cannot_do_is_refused_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(TracingConfigError) as refused:
        exporter_from_env(env)
    assert refused.value.variable == variable


def test_the_service_is_named_unless_the_environment_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")

    def service() -> dict[str, object]:
        tracing = tracing_from_env("1.2.3")
        provider = tracing._provider
        assert tracing.enabled and provider is not None
        attributes = dict(provider.resource.attributes)
        provider.shutdown()
        return attributes

    default = service()
    assert (default["service.name"], default["service.version"]) == ("oncoscrub-worker", "1.2.3")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "scrubber-eu")
    assert service()["service.name"] == "scrubber-eu"
    monkeypatch.delenv("OTEL_SERVICE_NAME")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=billing-scrubber")
    assert service()["service.name"] == "billing-scrubber"
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert not tracing_from_env("1.2.3").enabled
