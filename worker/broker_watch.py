"""Whether the cluster answers: asked every few seconds, for readiness and ``oncoscrub_broker_up``.

A client of its own asks for the cluster's metadata, the cheapest request every broker
answers, with the same address and security as the worker's other clients. The answer is
kept, so a readiness probe or a scrape never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

CHECK_EVERY_S = 5.0
CHECK_TIMEOUT_S = 5.0


class BrokerWatch:
    """``up``: whether the cluster answered the latest check (False until one did)."""

    def __init__(
        self,
        client_options: Callable[[], Mapping[str, Any]],
        client_id: str,
        every_s: float = CHECK_EVERY_S,
        timeout_s: float = CHECK_TIMEOUT_S,
    ) -> None:
        """``client_options``: aiokafka's connection options (``Settings.kafka.options``)."""
        self._options = client_options
        self._client_id = client_id
        self._every_s = every_s
        self._timeout_s = timeout_s
        self._client: AIOKafkaClient | None = None
        self._task: asyncio.Task[None] | None = None
        self.up = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="broker-watch")

    async def check(self) -> bool:
        """Ask the cluster now; keeps and returns the answer."""
        try:
            await asyncio.wait_for(self._ask(), self._timeout_s)
        except (KafkaError, OSError, TimeoutError):
            await self._drop_client()  # a fresh one bootstraps again next time
            self.up = False
        else:
            self.up = True
        return self.up

    async def _ask(self) -> None:
        if self._client is None:
            client = AIOKafkaClient(
                **self._options(),
                client_id=self._client_id,
                request_timeout_ms=int(self._timeout_s * 1000),
            )
            try:
                await client.bootstrap()
            except BaseException:
                await client.close()
                raise
            self._client = client
        await self._client.fetch_all_metadata()

    async def _watch(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self._every_s)

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop_client()
