"""How a worker starts and ends (worker/lifecycle.py): configuration errors by variable, the
bootstrap list, the bounded wait for a broker, and the exit codes. The whole process is
run on the broker in tests/broker/test_lifecycle.py."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from worker.lifecycle import (
    ConfigInvalidError,
    Ending,
    Exit,
    bootstrap_addresses,
    setting_problems,
    wait_for_brokers,
)
from worker.settings import Settings


def problems_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[dict[str, str | None]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, SettingsError)) as refused:
        Settings()
    return [p.as_dict() for p in setting_problems(refused.value)]


def test_a_bad_variable_is_named_and_its_value_never_repeated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = problems_of(monkeypatch, ONCOSCRUB_BATCH_MAX_RECORDS="s3cr3t-lots")
    assert found == [
        {
            "setting": "ONCOSCRUB_BATCH_MAX_RECORDS",
            "problem": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
    assert "s3cr3t" not in repr(found)


def test_every_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems_of(monkeypatch, ONCOSCRUB_HEALTH_PORT="70000", ONCOSCRUB_POLL_TIMEOUT_MS="0")
    assert {p["setting"] for p in found} == {"ONCOSCRUB_HEALTH_PORT", "ONCOSCRUB_POLL_TIMEOUT_MS"}


def test_a_nested_variable_is_named_with_its_double_underscore() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({"topics": {"submitted": 5}})
    assert [p.setting for p in setting_problems(refused.value)] == ["ONCOSCRUB_TOPICS__SUBMITTED"]


def test_a_nested_value_that_does_not_parse_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems_of(monkeypatch, ONCOSCRUB_TOPICS="{not json")
    assert found == [{"setting": "ONCOSCRUB_TOPICS", "problem": "cannot be parsed"}]


def test_a_problem_across_settings_has_no_single_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    [found] = problems_of(monkeypatch, ONCOSCRUB_MAX_DECISION_BYTES="5000")
    assert found["setting"] is None
    assert (
        found["problem"] is not None and "max_decision_bytes must be at least" in found["problem"]
    )


def test_bootstrap_addresses() -> None:
    assert bootstrap_addresses("k1:9093,k2") == [("k1", 9093), ("k2", 9092)]
    assert bootstrap_addresses("[::1]:9094") == [("::1", 9094)]
    for bad in ("", " , ", "host:port"):
        with pytest.raises(ConfigInvalidError) as refused:
            bootstrap_addresses(bad)
        assert [p.setting for p in refused.value.problems] == ["ONCOSCRUB_BOOTSTRAP_SERVERS"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_the_wait_ends_when_a_broker_accepts_a_connection() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        deadline = time.monotonic() + 10
        assert await wait_for_brokers([("127.0.0.1", closed_port()), ("127.0.0.1", port)], deadline)
        assert time.monotonic() < deadline


async def test_the_wait_gives_up_at_its_deadline() -> None:
    began = time.monotonic()
    assert not await wait_for_brokers([("127.0.0.1", closed_port())], began + 1.0)
    assert 1.0 <= time.monotonic() - began < 5.0


async def test_a_broker_that_comes_up_during_the_wait_is_found() -> None:
    port = closed_port()

    async def later() -> asyncio.Server:
        await asyncio.sleep(0.8)
        return await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)

    starting = asyncio.create_task(later())
    assert await wait_for_brokers([("127.0.0.1", port)], time.monotonic() + 10)
    server = await starting
    server.close()
    await server.wait_closed()


def test_exit_codes_say_how_a_run_ended() -> None:
    assert [(e.how, int(e)) for e in Exit] == [
        ("stopped", 0),
        ("failed", 1),
        ("config_invalid", 2),
        ("broker_unreachable", 3),
    ]
    ending = Ending(Exit.FAILED, "the processing loop failed", exc=KeyError("x"))
    assert ending.with_problems(["closing the processor: KafkaError"]).fields() == {
        "how": "failed",
        "exit_code": 1,
        "reason": "the processing loop failed",
        "error": "KeyError",
        "problems": ["closing the processor: KafkaError"],
    }
