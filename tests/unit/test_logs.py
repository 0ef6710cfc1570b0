"""Log lines: one JSON object each, with ``message``, ``logger``, ``level`` and ``timestamp``;
tracebacks structured; no claim content; the Kafka clients' reconnect noise bounded."""

from __future__ import annotations

import json
import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from aiokafka import TopicPartition
from aiokafka.errors import (
    CoordinatorNotAvailableError,
    KafkaConnectionError,
    NotLeaderForPartitionError,
)
from pydantic import BaseModel, SecretStr, ValidationError

from schemas.examples import example_claim
from worker import decision_log
from worker.broker_churn import BrokerChurn
from worker.logs import (
    ClaimRefs,
    UnknownLogLevelError,
    broker_answered,
    configure,
    get_logger,
    level_number,
)

CONNECT = 'Unable connect to "%s:%s": %s'
NODE = "Unable connect to node with id %s: %s"
COORDINATOR = "Group Coordinator Request failed: %s"
PRODUCE_RETRY = "Got error produce response on topic-partition %s, retrying. Error: %s"


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """``configure`` for one test, and the JSON lines written so far; logging as it was
    afterwards."""
    root = logging.getLogger()
    kept = (root.handlers[:], root.level)
    libraries = {n: logging.getLogger(n).level for n in ("aiokafka", "kafka")}

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]

    yield lines
    for handler in root.handlers:
        if handler not in kept[0]:
            handler.close()
    root.handlers[:], _ = kept[0], root.setLevel(kept[1])
    for name, level in libraries.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()


def aiokafka_record(
    template: str, *args: object, level: int = logging.ERROR, name: str = "aiokafka.client"
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, template, args, None)


def test_a_line_has_message_logger_level_and_timestamp_first(logs: Any) -> None:
    configure("info")
    get_logger("worker.processor").info("batch_committed", partition=2, records=5)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    ours, library = logs()
    assert list(ours)[:4] == ["timestamp", "level", "logger", "message"]
    assert ours == ours | {"level": "info", "logger": "worker.processor",
                           "message": "batch_committed", "partition": 2, "records": 5}  # fmt: skip
    assert "event" not in ours and ours["timestamp"].endswith("Z")
    assert list(library)[:4] == ["timestamp", "level", "logger", "message"]
    assert (library["logger"], library["level"]) == ("uvicorn.error", "warning")


def test_an_exception_is_structured_not_a_string_in_the_message(logs: Any) -> None:
    configure("INFO")
    try:
        {}["missing"]
    except KeyError:
        get_logger("worker.app").exception("processor_failed")
        logging.getLogger("uvicorn.error").exception("Application shutdown failed")
    for line in logs():
        assert "Traceback" not in line["message"]
        [raised] = line["exception"]
        assert raised["exc_type"] == "KeyError"
        assert raised["frames"][-1]["name"] == (
            "test_an_exception_is_structured_not_a_string_in_the_message"
        )
        assert "locals" not in raised["frames"][-1]  # a frame's locals may hold a claim


def test_a_validation_error_logs_no_value_it_refused(logs: Any) -> None:
    class Patient(BaseModel):  # a model that, unlike the wire schemas, repeats its input
        mrn: int

    configure("INFO")
    with pytest.raises(ValidationError) as raised:
        Patient.model_validate({"mrn": "MRN-SECRET-4711"})
    assert "MRN-SECRET-4711" in str(raised.value)
    get_logger("worker.x").error("refused", exc_info=raised.value)
    [line] = logs()
    assert "MRN-SECRET" not in json.dumps(line)
    assert line["exception"][0]["exc_value"] == "1 validation error for Patient"


def test_a_library_message_of_several_lines_keeps_its_first_as_the_message(logs: Any) -> None:
    configure("INFO")
    logging.getLogger("asyncio").error("Unclosed AIOKafkaProducer\nproducer: <object>")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("an old call", UserWarning, stacklevel=1)
    logging.getLogger("asyncio").error("\n")
    unclosed, warned, blank = logs()
    assert blank["message"] == "" and "detail" not in blank
    assert (unclosed["message"], unclosed["detail"]) == (
        "Unclosed AIOKafkaProducer",
        ["producer: <object>"],
    )
    assert warned["logger"] == "py.warnings" and "UserWarning: an old call" in warned["message"]


@pytest.mark.parametrize("level", ["verbose", "", "WARN ING", "10", "NOTSET"])
def test_an_unknown_level_is_refused(level: str) -> None:
    with pytest.raises(UnknownLogLevelError, match="expected one of DEBUG, INFO, WARNING"):
        configure(level)


@pytest.mark.parametrize(("name", "number"), [("debug", 10), ("Warning", 30), (" ERROR ", 40)])
def test_a_level_is_read_in_any_case(name: str, number: int) -> None:
    assert level_number(name) == number


def test_the_level_filters_our_lines_and_libraries_stay_at_warning(logs: Any) -> None:
    configure("WARNING")
    get_logger("worker.x").info("not_shown")
    get_logger("worker.x").warning("shown")
    configure("DEBUG")
    get_logger("worker.x").debug("shown_too")
    logging.getLogger("some.library").info("a library's info: not shown")
    logging.getLogger("some.library").warning("a library's warning")
    assert [line["message"] for line in logs()] == ["shown", "shown_too", "a library's warning"]


def test_a_decision_line_carries_the_claims_keyed_digest_never_its_id(logs: Any) -> None:
    from datetime import UTC, datetime

    from schemas import SourceRef
    from worker.decide import DecisionContext, decide
    from worker.topology import declare

    configure("INFO")
    claim = example_claim(7)
    raw = json.dumps(claim).encode()
    ctx = DecisionContext(topology=declare(), worker_id="w", max_claim_bytes=64_000)
    decision = decide(raw, None, SourceRef(topic="t", partition=0, offset=9), ctx,
                      datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip
    refs = ClaimRefs(SecretStr("key"))

    class Record:
        offset = 9

    decision_log.batch_committed(TopicPartition("t", 0), [Record()], [(9, decision)],  # type: ignore[list-item]
                                 Counter(["scrubbed"]), 0.01, 0.02, refs)  # fmt: skip
    logged = logs()
    text = json.dumps(logged)
    assert claim["claim_id"] not in text and claim["patient_ref"] not in text
    assert logged[0]["claim_ref"] == refs(claim["claim_id"])


# -- the Kafka clients' reconnect noise ------------------------------------------------------


def test_a_burst_of_a_thousand_connection_failures_is_one_line(logs: Any) -> None:
    configure("INFO")
    client = logging.getLogger("aiokafka.client")
    for n in range(1000):
        client.error(NODE if n % 2 else CONNECT, *((1, "refused") if n % 2 else
                     ("127.0.0.1", 9092, KafkaConnectionError("Connect call failed"))))  # fmt: skip
    lines = logs()
    assert [(line["level"], line["message"]) for line in lines] == [
        ("warning", "broker_unreachable")
    ]
    assert lines[0]["error"].startswith('Unable connect to "127.0.0.1:9092"')
    logging.getLogger().handlers[0].close()  # at exit: what was held back is said
    [summary] = logs()
    assert summary["message"] == "broker_still_unreachable"
    assert summary["held_back"] == {"connect": 999}


def test_the_application_can_say_the_broker_answered(logs: Any) -> None:
    configure("INFO")
    for _ in range(50):
        logging.getLogger("aiokafka.conn").error(NODE, 1, "refused")
    broker_answered("the health check's metadata request was answered")
    broker_answered()  # no outage: nothing to say
    assert [(line["message"], line.get("held_back")) for line in logs()] == [
        ("broker_unreachable", None), ("broker_reachable", 49)
    ]  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def churn(floor: int = logging.WARNING) -> tuple[BrokerChurn, Clock, list[tuple[Any, ...]]]:
    said: list[tuple[Any, ...]] = []
    clock = Clock()

    def emit(level: str, message: str, **fields: object) -> None:
        said.append((level, message, fields))

    return BrokerChurn(emit, floor, clock=clock, watch=False), clock, said


def test_an_outage_is_three_kinds_of_line_however_long_it_lasts() -> None:
    f, clock, said = churn()
    passed = 0
    for tenth in range(10 * 300):  # five minutes, one failure every 100 ms
        clock.now = tenth / 10
        passed += f.filter(aiokafka_record(NODE, 1, "refused"))
    clock.now = 300.5
    found = aiokafka_record("Discovered coordinator %s for group %s", 1, "g", level=logging.INFO)
    passed += f.filter(found)
    assert passed == 0
    assert [m for _, m, _ in said] == ["broker_unreachable"] + ["broker_still_unreachable"] * 4 + [
        "broker_reachable"
    ]
    held = [
        fields["held_back"]["connect"] for _, m, fields in said if m.endswith("still_unreachable")
    ]
    assert held == [599, 600, 600, 600]  # every 60 s, what the minute held back
    level, _, back = said[-1]
    assert level == "info" and back["held_back"] == 2999 and back["after_s"] == 300.5


def test_an_outage_gone_quiet_has_ended() -> None:
    f, clock, said = churn()
    f.filter(aiokafka_record(CONNECT, "h", 1, "refused"))
    clock.now = 14.0
    f.tick()
    assert [m for _, m, _ in said] == ["broker_unreachable"]
    clock.now = 15.0
    f.tick()
    assert said[-1][1] == "broker_reachable" and "no connection failure" in said[-1][2]["how"]
    clock.now = 20.0
    f.filter(aiokafka_record(CONNECT, "h", 1, "refused"))
    assert said[-1][1] == "broker_unreachable"  # a new outage is a new line


def test_a_group_looking_for_its_coordinator_at_start_is_not_an_error() -> None:
    f, clock, said = churn()
    looking = aiokafka_record(COORDINATOR, CoordinatorNotAvailableError())
    assert not f.filter(looking) and looking.levelno == logging.DEBUG
    clock.now = 29.0
    assert not f.filter(aiokafka_record(COORDINATOR, CoordinatorNotAvailableError()))
    # Still none after the grace: said, once a minute, as a warning (aiokafka retries it).
    clock.now = 31.0
    late = aiokafka_record(COORDINATOR, CoordinatorNotAvailableError())
    assert f.filter(late) and late.levelno == logging.WARNING
    assert not f.filter(aiokafka_record(COORDINATOR, CoordinatorNotAvailableError()))
    # Found: the next group to look has its grace again.
    f.filter(aiokafka_record("Discovered coordinator %s for group %s", 1, "g", level=logging.INFO))
    clock.now = 40.0
    assert not f.filter(aiokafka_record(COORDINATOR, CoordinatorNotAvailableError()))
    assert said == []
    shown = churn(logging.DEBUG)[0]
    early = aiokafka_record(COORDINATOR, CoordinatorNotAvailableError())
    assert shown.filter(early) and early.levelname == "DEBUG"


def produce_retry() -> logging.LogRecord:
    return aiokafka_record(PRODUCE_RETRY, "tp", NotLeaderForPartitionError(),
                           level=logging.WARNING, name="aiokafka.producer")  # fmt: skip


def test_what_the_clients_retry_while_a_cluster_settles_at_start_is_not_said() -> None:
    f, clock, said = churn()
    dead = aiokafka_record("Marking the coordinator dead (node %s)for group %s.", 1, "g",
                           level=logging.WARNING)  # fmt: skip
    settling = [dead, produce_retry(), aiokafka_record("Heartbeat failed for group %s: ...", "g")]
    assert not any(f.filter(r) for r in settling) and said == []
    assert all(r.levelno == logging.DEBUG for r in settling)
    clock.now = 30.0
    assert f.filter(produce_retry())  # after the grace: said (once a minute, below)


def test_errors_the_client_retries_pass_once_a_minute_as_warnings() -> None:
    f, clock, said = churn()
    passed = []
    for second in range(100, 220):
        clock.now = float(second)
        if f.filter(produce_retry()):
            passed.append(second)
    assert passed == [100, 160]
    assert said == [("warning", "kafka_client_retries", {"held_back": {"produce_retry": 59},
                                                         "every_s": 60.0})]  # fmt: skip
    other = aiokafka_record("Heartbeat failed: %r", NotLeaderForPartitionError())
    assert f.filter(other) and other.levelno == logging.WARNING  # retriable: not an error


def test_other_client_lines_pass_as_they_are() -> None:
    f, _, said = churn()
    storm = aiokafka_record("Heartbeat session expired - marking coordinator dead",
                            name="aiokafka.consumer.group_coordinator")  # fmt: skip
    fatal = aiokafka_record("Topic %s is not authorized for this client", "t")
    ours = aiokafka_record(NODE, 1, "refused", name="worker.processor")
    assert f.filter(storm) and storm.levelno == logging.ERROR
    assert f.filter(fatal) and f.filter(ours) and said == []
    chatty = aiokafka_record("Subscribed to topic(s): %s", "t", level=logging.INFO)
    assert not f.filter(chatty)
