"""How a worker's run ends, and the exit code that says so.

Every run of ``oncoscrub worker`` ends with one ``worker_stopped`` line (``how``, ``exit_code``)
except a refused configuration, which is one ``config_invalid`` line naming each setting. A
supervisor reads the exit code:

=====  =====================  ==========================================================
code   how                    meaning
=====  =====================  ==========================================================
0      ``stopped``            asked to stop (SIGTERM, Ctrl-C) and stopped
1      ``failed``             the worker failed: refused its topics, the processing loop
                              raised, or it could not serve its health port
2      ``config_invalid``     an ``ONCOSCRUB_*`` or ``OTEL_*`` variable is invalid
3      ``broker_unreachable`` start-up did not reach the brokers, or did not finish,
                              within ``ONCOSCRUB_STARTUP_TIMEOUT_S``
=====  =====================  ==========================================================

Restarting helps with 1 and 3 (the cause may pass), never with 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum

from aiokafka.conn import collect_hosts
from pydantic import ValidationError
from pydantic_settings import SettingsError

ENV_PREFIX = "ONCOSCRUB_"


class Exit(IntEnum):
    STOPPED = 0
    FAILED = 1
    CONFIG_INVALID = 2
    BROKER_UNREACHABLE = 3

    @property
    def how(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Ending:
    """How a run ended: the exit code, and in words why, for the final line."""

    exit: Exit
    reason: str
    error: str | None = None  # the class name of the exception that ended it
    exc: BaseException | None = field(default=None, compare=False)
    problems: tuple[str, ...] = ()  # what went wrong while stopping (it still stopped)

    def __post_init__(self) -> None:
        if self.exc is not None and self.error is None:
            object.__setattr__(self, "error", type(self.exc).__name__)

    def with_problems(self, problems: Sequence[str]) -> Ending:
        return replace(self, problems=(*self.problems, *problems))

    def fields(self) -> dict[str, object]:
        out: dict[str, object] = {"how": self.exit.how, "exit_code": int(self.exit)}
        out["reason"] = self.reason
        if self.error is not None:
            out["error"] = self.error
        if self.problems:
            out["problems"] = list(self.problems)
        return out


# -- configuration errors --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingProblem:
    setting: str | None  # the environment variable; None: several settings together
    problem: str

    def as_dict(self) -> dict[str, str | None]:
        return {"setting": self.setting, "problem": self.problem}


class ConfigInvalidError(Exception):
    """The configuration cannot run a worker; each problem names its variable."""

    def __init__(self, problems: Sequence[SettingProblem]) -> None:
        super().__init__("; ".join(f"{p.setting}: {p.problem}" for p in problems))
        self.problems = tuple(problems)


def env_name(loc: Sequence[int | str]) -> str | None:
    """The environment variable of a settings field's location (nested: ``__``)."""
    if not loc:
        return None
    return ENV_PREFIX + "__".join(str(part) for part in loc).upper()


def setting_problems(exc: ValidationError | SettingsError) -> list[SettingProblem]:
    """What is wrong, by variable, in pydantic's words without the value given (which may be
    a secret)."""
    if isinstance(exc, SettingsError):
        # pydantic-settings says only which field could not be parsed (a nested value that
        # is not JSON, say).
        field = re.search(r'field "([^"]+)"', str(exc))
        return [SettingProblem(env_name([field.group(1)]) if field else None, "cannot be parsed")]
    return [
        SettingProblem(env_name(e["loc"]), str(e["msg"]).removeprefix("Value error, "))
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


# -- reaching the brokers --------------------------------------------------------------------


def bootstrap_addresses(servers: str) -> list[tuple[str, int]]:
    """``host:port`` pairs of a bootstrap list (9092 when a port is not given)."""
    try:
        hosts = collect_hosts(servers, randomize=False)
    except (ValueError, IndexError) as exc:
        raise ConfigInvalidError(
            [SettingProblem("ONCOSCRUB_BOOTSTRAP_SERVERS", f"not host:port,...: {exc}")]
        ) from None
    addresses = [(str(host), int(port)) for host, port, _ in hosts if host]
    if not addresses:
        raise ConfigInvalidError(
            [SettingProblem("ONCOSCRUB_BOOTSTRAP_SERVERS", "no broker address")]
        )
    return addresses


async def _answers(host: str, port: int, timeout_s: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def wait_for_brokers(
    addresses: Sequence[tuple[str, int]],
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Wait until one bootstrap address accepts a connection, until ``deadline``
    (``clock``'s time). A plain TCP connection, so the wait logs nothing: the Kafka clients
    connect once it succeeds, and their errors then mean more than "not up yet"."""
    pause = 0.25
    while True:
        left = deadline - clock()
        if left <= 0:
            return False
        for host, port in addresses:
            if await _answers(host, port, min(2.0, max(0.1, left))):
                return True
        left = deadline - clock()
        if left <= 0:
            return False
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 2.0)
