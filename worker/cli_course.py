"""``oncoscrub course show PATIENT_REF``: a patient's radiation-oncology courses, read from
the course store's changelog (what the workers restore), without a worker running."""

from __future__ import annotations

import asyncio
import sys

import typer
from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from rules.courses import timeline
from schemas.course import CourseView, PatientCourses
from worker.committed_reader import read_partition, reader, start_reader
from worker.kafka_client import KafkaConnection
from worker.settings import Settings
from worker.topic_admin import partitions_of
from worker.topology import declare

course = typer.Typer(no_args_is_help=True, help="Radiation-oncology courses (the course store).")


async def read_courses(
    conn: KafkaConnection, settings: Settings, ref: str
) -> PatientCourses | None:
    """The patient's latest committed state: the changelog partition the patient's claims
    are decided on (the by-patient topic's partition for that key) holds it."""
    topology = declare(settings.topics)
    key = ref.encode()
    partitions = [tp.partition for tp in await partitions_of(conn, topology.by_patient.name)]
    partition = DefaultPartitioner()(key, partitions, partitions)
    consumer = reader(conn)
    await start_reader(consumer)
    value: bytes | None = None
    try:
        tp = TopicPartition(topology.courses.changelog.name, partition)
        async for record in read_partition(consumer, tp):
            if record.key == key:
                value = record.value  # the last one wins; None deletes
    finally:
        await consumer.stop()
    return None if value is None else PatientCourses.model_validate_json(value)


def render(views: tuple[CourseView, ...]) -> str:
    lines: list[str] = []
    for v in views:
        state = "closed" if v.closed else "open"
        lines.append(f"course {v.course_id}  {v.first_date} → {v.last_date}  ({state})")
        for phase in v.phases:
            lines.append(f"  {phase.first_date}  {phase.phase}")
        lines.append(f"  fractions delivered: {v.fractions}")
        for label, billed in (
            ("77427 management", v.weekly_management),
            ("77336 physics", v.physics),
        ):
            for b in billed:
                lines.append(f"  {label} ({b.part}): billed {b.billed}, allowed {b.allowed}")
        claims = ", ".join(f"{c.claim_id} v{c.claim_version}" for c in v.claims)
        lines.append(f"  claims: {claims}")
    return "\n".join(lines) + "\n"


@course.command("show")
def show(
    patient_ref: str = typer.Argument(..., help="The pseudonymous patient reference."),
    as_json: bool = typer.Option(False, "--json", help="The course views as JSON."),
) -> None:
    """Print a patient's course timeline: phases, dates, fractions, management units."""
    settings = Settings()
    state = asyncio.run(read_courses(settings.kafka, settings, patient_ref))
    if state is None:
        sys.stderr.write("no course on record for this patient reference\n")
        raise typer.Exit(1)
    views = timeline(state)
    if as_json:
        sys.stdout.write("[" + ",".join(v.model_dump_json() for v in views) + "]\n")
    else:
        sys.stdout.write(render(views))
