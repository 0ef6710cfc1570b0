"""Handing the demo's decisions to the review queue (called by ``deploy/demo.py``).

Before the demo stops its broker, ``fill_read_model`` reads the topics into the
read model (``oncoscrub-review.db`` by default); ``closing_lines`` tells the user
how to open it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from review import tables as t
from review.action_log import topic_configs
from review.database import connect, migrate
from review.feed import rebuild
from review.readmodel import Status
from review.settings import ReviewSettings, with_worker_topics
from review.web import topic_names
from worker.kafka_client import KafkaConnection
from worker.topic_admin import ensure_topics
from worker.topology import Topics


async def fill_read_model(
    conn: KafkaConnection, topics: Topics, database_url: str | None = None
) -> int:
    """Rebuild the read model from the broker's topics; the number of claims in review."""
    settings = with_worker_topics(ReviewSettings(), topics)
    url = database_url or settings.database_url
    await ensure_topics(conn, topic_configs(settings), settings.actions_partitions)
    engine = connect(url)
    migrate(engine)
    await rebuild(engine, conn, topic_names(topics, settings))
    with engine.connect() as db:
        count = db.execute(
            select(func.count()).select_from(t.claims).where(t.claims.c.status == Status.OPEN)
        ).scalar_one()
    engine.dispose()
    return int(count)


def closing_lines(count: int, database_url: str | None = None) -> list[str]:
    settings = ReviewSettings()
    url = database_url or settings.database_url
    return [
        f"Review queue: {count} claim(s) in review, copied into {url}.",
        "  .venv/bin/oncoscrub review add-user ana --role coder     # asks for a password",
        "  .venv/bin/oncoscrub review serve --no-broker             # then open "
        f"http://{settings.host}:{settings.port}",
        "  .venv/bin/oncoscrub review list                          # the same from the shell",
        "To act on them (accept, edit, resubmit, close) run it beside a broker and a worker: "
        "docs/review.md.",
    ]
