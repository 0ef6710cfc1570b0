"""``oncoscrub publish FILE``: send claims to a running worker's input topic.

The file is one JSON claim, a JSON array of claims, or JSON Lines, read as ``oncoscrub
scrub`` reads it (an array's claims are sent as batch mode decides them, so the worker's
decisions match ``scrub``'s). Each claim is checked against the claim schema first, and
sent keyed by its claim id with an idempotent producer acknowledged by every in-sync
replica. A claim that is rejected or not delivered is reported by its line (or item)
number and why, never by its content; the exit code is 1 if any was.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import jiter
import typer
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from rich.console import Console

from schemas.claim import SubmittedClaim
from schemas.errors import review_reasons
from worker.ingest.sniff import InputFormat, sniff
from worker.kafka_client import KafkaConnection
from worker.settings import Settings

err = Console(stderr=True)

SHOWN = 20  # problems listed one by one; the rest are counted


class NothingSentError(RuntimeError):
    """The claims could not be sent at all: the brokers or the topic are not there."""


@dataclass(frozen=True, slots=True)
class Item:
    where: str  # "line 3", "item 2" (1-based), or "the file"
    value: bytes
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    why: str


def read_items(data: bytes) -> Iterator[Item]:
    """The claims of a file with their place in it: as ``worker.batch.split_inputs``."""
    text = data.strip()
    if not text:
        return
    try:
        whole = jiter.from_json(text)
    except ValueError:
        whole = None
    if isinstance(whole, list):
        for n, claim in enumerate(whole, start=1):
            yield Item(f"item {n}", json.dumps(claim).encode())
        return
    if whole is not None:
        yield Item("the file", text)
        return
    for n, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield Item(f"line {n}", line.strip())


def whole_form(path: Path, data: bytes, mar: bool) -> str | None:
    """The content type of a file sent as one record (an 837 interchange, a FHIR Bundle);
    None for JSON claims, sent one by one."""
    if mar:
        return "application/fhir+json"
    if path.suffix.lower() in (".837", ".x12", ".edi"):
        return "application/edi-x12"
    form = sniff(data)
    if form is InputFormat.X12:
        return "application/edi-x12"
    if form is InputFormat.FHIR:
        return "application/fhir+json"
    return None


def claim_key(item: Item, validate: bool) -> bytes | Problem | None:
    """The record key (the claim id), a problem that keeps the claim back, or no key (an
    unchecked claim whose id cannot be read)."""
    try:
        doc = jiter.from_json(item.value)
    except ValueError:
        return Problem(item.where, "not JSON") if validate else None
    if not validate:
        claim_id = doc.get("claim_id") if isinstance(doc, dict) else None
        return claim_id.encode() if isinstance(claim_id, str) else None
    try:
        claim = SubmittedClaim.model_validate_json(item.value)
    except ValidationError as e:
        # The reasons name fields and what they need, never a value.
        reasons = [r.message for r in review_reasons(e)]
        more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
        return Problem(item.where, " ".join(reasons[:3]) + more)
    return claim.claim_id.encode()


async def send_all(
    conn: KafkaConnection,
    topic: str,
    claims: list[tuple[Item, bytes | None]],
    max_request_bytes: int,
    request_timeout_ms: int,
) -> list[Problem]:
    """Send every claim; the ones not delivered, with why."""
    producer = AIOKafkaProducer(
        **conn.options(),
        acks="all",
        enable_idempotence=True,
        max_request_size=max_request_bytes,
        request_timeout_ms=request_timeout_ms,
        linger_ms=5,
    )
    try:
        await producer.start()
    except KafkaError as e:
        await producer.stop()  # what start() opened before it failed
        raise NothingSentError(
            f"the brokers at {conn.bootstrap_servers} cannot be reached ({type(e).__name__})"
        ) from None
    failed: list[Problem] = []
    try:
        try:
            await producer.partitions_for(topic)
        except KafkaError as e:
            raise NothingSentError(
                f"topic {topic} does not exist or this principal may not see it "
                f"({type(e).__name__})"
            ) from None
        pending: list[tuple[Item, asyncio.Future[object]]] = []
        for item, key in claims:
            try:
                headers = [("content-type", item.content_type.encode())]
                sent = await producer.send(topic, item.value, key=key, headers=headers)
                pending.append((item, sent))
            except KafkaError as e:
                failed.append(Problem(item.where, _kafka_reason(e)))
        for item, delivery in pending:
            try:
                await delivery
            except KafkaError as e:
                failed.append(Problem(item.where, _kafka_reason(e)))
    finally:
        await producer.stop()
    return failed


def _kafka_reason(e: KafkaError) -> str:
    return type(e).__name__


def publish_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="Claims as JSON, a JSON array or JSON Lines; an X12 837 interchange "
            "(.837/.x12/.edi or content starting ISA) or a FHIR Bundle, sent whole.",
        ),
    ],
    topic: Annotated[
        str | None,
        typer.Option(
            help="Send to this topic (default: the worker's, ONCOSCRUB_TOPICS__SUBMITTED)."
        ),
    ] = None,
    validate: Annotated[
        bool,
        typer.Option(
            help="Check each claim against the claim schema first and keep back those that "
            "fail (--no-validate sends them as they are, for the worker to route).",
        ),
    ] = True,
    mar: Annotated[
        bool,
        typer.Option(
            "--mar",
            help="The file is a FHIR MAR Bundle: send it to the MAR topic "
            "(ONCOSCRUB_TOPICS__MAR_SUBMITTED) for the MAR join.",
        ),
    ] = False,
) -> None:
    """Send a file of claims to a running worker's input topic, keyed by claim id.

    Exit codes: 0 every claim published; 1 some claim was not (rejected by the schema, not
    delivered, or the brokers or topic not there); 2 usage or input error (no claim in it).
    """
    settings = Settings()
    target = topic or (settings.topics.mar_submitted if mar else settings.topics.submitted)
    try:
        data = path.read_bytes()
    except OSError as e:
        err.print(f"[red]error[/]: {path}: {e.strerror}", highlight=False)
        raise typer.Exit(2) from None
    form = whole_form(path, data, mar)
    items = [Item("the file", data, form)] if form else list(read_items(data))
    if not items:
        err.print(f"[red]error[/]: {path} holds no claim", highlight=False)
        raise typer.Exit(2)
    rejected: list[Problem] = []
    ready: list[tuple[Item, bytes | None]] = []
    for item in items:
        key = None if form else claim_key(item, validate)
        if isinstance(key, Problem):
            rejected.append(key)
        else:
            ready.append((item, key))
    _report("rejected", rejected)
    failed: list[Problem] = []
    try:
        if ready:
            failed = asyncio.run(
                send_all(
                    settings.kafka,
                    target,
                    ready,
                    settings.max_request_bytes,
                    settings.request_timeout_ms,
                )
            )
    except NothingSentError as e:
        err.print(f"[red]error[/]: nothing published: {e}", highlight=False, soft_wrap=True)
        failed = [Problem(item.where, "not sent") for item, _ in ready]
    else:
        _report("not delivered", failed)
    err.print(
        f"published {len(ready) - len(failed)} of {len(items)} claim(s) to {target}: "
        f"{len(rejected)} rejected, {len(failed)} not published",
        highlight=False,
        soft_wrap=True,
    )
    if rejected or failed:
        raise typer.Exit(1)


def _report(kind: str, problems: list[Problem]) -> None:
    for p in problems[:SHOWN]:
        err.print(f"{p.where}: {kind}: {p.why}", markup=False, highlight=False, soft_wrap=True)
    if len(problems) > SHOWN:
        err.print(f"… and {len(problems) - SHOWN} more {kind}")
