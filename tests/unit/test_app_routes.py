"""The worker's HTTP routes, before it starts (no lifespan: nothing connects): health, metrics
in both formats, and the AsyncAPI page that must show on a closed network."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from typer.testing import CliRunner

from worker.app import WorkerApp
from worker.cli import cli
from worker.settings import Settings
from worker.topology import declare


@pytest.fixture(scope="module")
def app() -> WorkerApp:
    return WorkerApp(Settings(decide_processes=1))


@pytest.fixture
def client(app: WorkerApp) -> httpx.AsyncClient:
    # httpx's ASGI transport sends no lifespan events: the worker stays "starting".
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app.asgi), base_url="http://w")


async def test_a_starting_worker_is_alive_and_not_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 204
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json() == {
        "ready": False,
        "state": "starting",
        "broker": False,
        "partitions": [],
        "fenced": 0,
    }


async def test_metrics_in_openmetrics_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"oncoscrub_build_info", "oncoscrub_broker_up", "process_resident_memory_bytes"} <= names
    plain = await client.get("/metrics")
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert re.search(r"^oncoscrub_broker_up 0\.0$", plain.text, flags=re.MULTILINE)


class _Page(HTMLParser):
    """Every URL a page would load, and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in {"src", "srcset", "data"} or (tag == "link" and name == "href"):
                self.loads.append((tag, value or ""))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def test_the_asyncapi_page_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = _Page()
    page.feed(response.text)
    assert page.loads == []  # no script, stylesheet, font or image to fetch
    assert "script" not in page.tags
    assert not re.search(r"https?://", response.text)
    assert not re.search(r"@import|url\(", response.text)  # nor from the inline style


async def test_the_asyncapi_page_shows_every_topic_its_action_schema_and_headers(
    client: httpx.AsyncClient,
) -> None:
    text = " ".join(" ".join(_parsed((await client.get("/docs/asyncapi")).text).text).split())
    topology = declare()
    for topic in topology.topics:
        assert f"{topic.name} {topic.direction.value}" in text, topic.name
    assert "SubmittedClaim" in text and "AuditCheckpoint" in text
    for header in topology.dead_letter.headers:
        assert header.name in text and header.meaning in text


def _parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


async def test_the_json_document_is_the_one_the_cli_prints(client: httpx.AsyncClient) -> None:
    served = await client.get("/docs/asyncapi.json")
    assert served.headers["content-type"].startswith("application/json")
    printed = CliRunner().invoke(cli, ["asyncapi"])
    assert printed.exit_code == 0, printed.output
    assert served.json() == json.loads(printed.stdout)
