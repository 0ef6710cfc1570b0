"""The worker's Kafka clients on a broker that only speaks TLS and SASL: a second local broker
with a SASL_SSL listener (SCRAM-SHA-256/512, PLAIN, OAUTHBEARER) and a mutual-TLS listener,
on certificates this module generates, with Kafka's authorizer on. The worker and a billing
platform run with exactly the ACLs docs/operations.md gives them; every client connects with
the broker's hostname checked."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from faststream.kafka import KafkaBroker

from deploy.kafkatools import (
    InProcessWorker,
    claim_items,
    create_topics,
    produce,
    read_topic,
    wait_for_decisions,
)
from deploy.local_pki import LocalPki, make_pki
from deploy.localkafka import LocalKafka, SecureListeners
from schemas.examples import example_claim
from tests.kafka_acls import apply, documented_acls
from tests.oauth_endpoint import token_endpoint
from worker import committed_reader, topic_check
from worker.audit.chain import verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.kafka_client import KafkaConnection, KafkaSecurity
from worker.kafka_probe import diagnose
from worker.settings import Settings
from worker.topic_admin import partitions_of
from worker.topology import OutRecord, Topics, declare
from worker.transactions import open_producer, write_transaction

pytestmark = pytest.mark.broker

# With the documented ACLs only.
WORKER = "oncoscrub-worker"
PLATFORM = "billing-platform"
# Super users: the tests of mechanisms and protocols, not of ACLs.
TESTER = "tester"
MTLS_CLIENT = "oncoscrub-mtls"
OAUTH_CLIENT = "oncoscrub-oauth"


@dataclass(frozen=True)
class SecureBroker:
    kafka: LocalKafka
    pki: LocalPki
    passwords: dict[str, str]

    def sasl(
        self, user: str = TESTER, mechanism: str = "SCRAM-SHA-512", **more: Any
    ) -> KafkaConnection:
        given: dict[str, Any] = {
            "bootstrap_servers": self.kafka.sasl_ssl_bootstrap,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": mechanism,
            "sasl_username": user,
            "sasl_password": self.passwords[user],
            "ssl_cafile": self.pki.ca,
            **more,
        }
        return KafkaConnection(**given)

    def mtls(self, **more: Any) -> KafkaConnection:
        given: dict[str, Any] = {
            "bootstrap_servers": self.kafka.mtls_bootstrap,
            "security_protocol": "SSL",
            "ssl_cafile": self.pki.ca,
            "ssl_certfile": self.pki.client_cert,
            "ssl_keyfile": self.pki.client_key,
            "ssl_key_password": self.pki.client_key_password,
            **more,
        }
        return KafkaConnection(**given)


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    pki = make_pki(tmp_path_factory.mktemp("pki"), client_name=MTLS_CLIENT)
    passwords = {user: secrets.token_urlsafe(18) for user in (WORKER, PLATFORM, TESTER)}
    # A certificate's principal is its subject, as RFC 2253 writes it.
    supers = (f"User:{TESTER}", f"User:CN={MTLS_CLIENT},O=oncoscrub local test",
              f"User:{OAUTH_CLIENT}")  # fmt: skip
    listeners = SecureListeners(pki.server, pki.ca, passwords, super_users=supers)
    kafka = LocalKafka(topics={}, secure=listeners).start()
    print(f"\nsecure local Kafka: {kafka.sasl_ssl_bootstrap}, {kafka.startup_seconds:.1f}s")
    try:
        asyncio.run(apply(kafka.connection, documented_acls()))
        yield SecureBroker(kafka, pki, passwords)
    finally:
        kafka.stop()


def worker_settings(conn: KafkaConnection, topics: Topics, **more: Any) -> Settings:
    security = {name: getattr(conn, name) for name in KafkaSecurity.model_fields}
    return Settings(bootstrap_servers=conn.bootstrap_servers, **security, topics=topics, **more)


async def test_the_worker_clients_round_trip_over_scram_and_tls(secure: SecureBroker) -> None:
    conn = secure.sasl()
    topics = Topics.prefixed("sec-clients.")
    settings = worker_settings(conn, topics, group_id="g-sec-clients")
    # The admin client creates the topology's topics and checks them as the worker does.
    await create_topics(conn, topics, partitions=1)
    await topic_check.check(declare(topics), settings)
    [tp] = await partitions_of(conn, topics.submitted)

    claims = [(f"c{i}".encode(), f"claim {i}".encode()) for i in range(3)]
    await produce(secure.sasl(mechanism="PLAIN"), topics.submitted, claims)
    consumer = AIOKafkaConsumer(
        **conn.options(),
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        read: list[Any] = []
        while len(read) < len(claims):
            read += (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])

        # The transactional producer: records and the input offsets, all or nothing.
        producer = await open_producer(settings, tp)
        try:
            records = [OutRecord(topics.audit, r.key, b"audit " + r.value, partition=0)
                       for r in read]  # fmt: skip
            offsets = {tp: read[-1].offset + 1}
            await write_transaction(producer, records, offsets, settings.group_id)
        finally:
            await producer.stop()
        # The group's offset lands once the coordinator has written the commit markers.
        committed = None
        for _ in range(50):
            committed = await consumer.committed(tp)
            if committed is not None:
                break
            await asyncio.sleep(0.2)
        assert committed == read[-1].offset + 1
    finally:
        await consumer.stop()

    # The committed reader (audit log, state stores) sees exactly what committed.
    audit = [f"audit claim {i}".encode() for i in range(3)]
    reader = committed_reader.reader(conn)
    await committed_reader.start_reader(reader)
    try:
        out = TopicPartition(topics.audit, 0)
        assert [r.value async for r in committed_reader.read_partition(reader, out)] == audit
        assert await committed_reader.last_committed_value(reader, out) == audit[-1]
    finally:
        await reader.stop()
    assert [bytes(r.value) async for r in records_from_topic(conn, topics.audit)] == audit


async def test_the_worker_runs_with_scram_over_tls_and_the_documented_acls(
    secure: SecureBroker,
) -> None:
    conn = secure.sasl(WORKER)
    platform = secure.sasl(PLATFORM, "PLAIN")
    # The default names and group: the ones the documented ACLs grant. The topics job (a super
    # user here) creates them.
    topics = Topics()
    await create_topics(secure.kafka.connection, topics, partitions=2)
    claims = [example_claim(n) for n in range(6)]
    await produce(platform, topics.submitted, claim_items(claims))

    async with InProcessWorker(
        conn, topics, group_id="oncoscrub", decide_processes=1, worker_id="w-secure"
    ) as worker:
        assert worker.settings.kafka.sasl_username == WORKER
        out = await wait_for_decisions(secure.sasl(), topics, expected=len(claims), timeout=120)
    assert len(out.decisions) == len(out.audit) == len(claims)
    # The audit log, read back as the worker reads it, verifies.
    records = [r async for r in records_from_topic(conn, topics.audit)]
    pins = await checkpoints_from_topic(conn, topics.audit_checkpoints)
    assert verify(records, pins).ok
    # The platform reads its decisions.
    decided = [
        *await read_topic(platform, topics.scrubbed),
        *await read_topic(platform, topics.review),
    ]
    assert sorted(r.key for r in decided) == sorted(c["claim_id"].encode() for c in claims)

    # The authorizer is on: what the documentation does not grant is refused.
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(conn, topics.submitted, [(b"k", b"the worker never writes claims")])
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(platform, topics.audit, [(b"k", b"nor does a platform write audit")])


async def test_faststream_connects_with_the_same_settings(secure: SecureBroker) -> None:
    conn = secure.sasl(mechanism="SCRAM-SHA-256")
    topics = Topics.prefixed("sec-faststream.")
    await create_topics(conn, topics, partitions=1)
    broker = KafkaBroker(conn.bootstrap_servers, **conn.faststream_options())
    await broker.start()
    try:
        await broker.publish(b"from faststream", topic=topics.submitted, key=b"k")
    finally:
        await broker.stop()
    assert [r.value for r in await read_topic(conn, topics.submitted)] == [b"from faststream"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_a_wrong_password_is_refused_with_a_clear_error(
    secure: SecureBroker, mechanism: str
) -> None:
    wrong = "not-" + secure.passwords[WORKER]
    conn = secure.sasl(WORKER, mechanism, sasl_password=wrong)
    with pytest.raises(KafkaConnectionError):
        await partitions_of(conn, "any")
    [failure] = await diagnose(conn)
    assert f"the broker refused user '{WORKER}' with SASL {mechanism}" in str(failure)
    assert "ONCOSCRUB_SASL_PASSWORD" in str(failure)
    assert wrong not in str(failure)
    assert secure.passwords[WORKER] not in str(failure)


async def test_an_untrusted_ca_is_refused(secure: SecureBroker) -> None:
    conn = secure.sasl(ssl_cafile=secure.pki.untrusted_ca)
    with pytest.raises(KafkaConnectionError):
        await partitions_of(conn, "any")
    [failure] = await diagnose(conn)
    assert "certificate is not trusted" in str(failure)
    assert "ONCOSCRUB_SSL_CAFILE" in str(failure)


async def test_a_client_of_another_protocol_is_told_so(secure: SecureBroker) -> None:
    plaintext = KafkaConnection(bootstrap_servers=secure.kafka.sasl_ssl_bootstrap)
    [failure] = await diagnose(plaintext)
    assert "may expect another ONCOSCRUB_SECURITY_PROTOCOL (it is PLAINTEXT)" in str(failure)
    assert await diagnose(secure.sasl()) == []


async def test_mutual_tls_with_a_client_certificate(secure: SecureBroker) -> None:
    conn = secure.mtls()
    topics = Topics.prefixed("sec-mtls.")
    await create_topics(conn, topics, partitions=1)
    await produce(conn, topics.submitted, [(b"k", b"over mutual TLS")])
    assert [r.value for r in await read_topic(conn, topics.submitted)] == [b"over mutual TLS"]

    anonymous = secure.mtls(ssl_certfile=None, ssl_keyfile=None, ssl_key_password=None)
    [failure] = await diagnose(anonymous)
    assert "the broker wants a client certificate" in str(failure)
    with pytest.raises(KafkaConnectionError):
        await partitions_of(anonymous, topics.submitted)


async def test_oauthbearer_with_a_token_from_the_token_endpoint(secure: SecureBroker) -> None:
    with token_endpoint(client_id=OAUTH_CLIENT) as endpoint:
        conn = KafkaConnection(
            bootstrap_servers=secure.kafka.sasl_ssl_bootstrap,
            security_protocol="SASL_SSL",
            ssl_cafile=secure.pki.ca,
            sasl_mechanism="OAUTHBEARER",
            sasl_oauth_token_url=endpoint.url,
            sasl_oauth_client_id=endpoint.client_id,
            sasl_oauth_client_secret=endpoint.client_secret,
            sasl_oauth_scope="kafka.oncoscrub",
        )
        topics = Topics.prefixed("sec-oauth.")
        await create_topics(conn, topics, partitions=1)
        await produce(conn, topics.submitted, [(b"k", b"with a bearer token")])
        assert [r.value for r in await read_topic(conn, topics.submitted)] == [
            b"with a bearer token"
        ]
        # Admin, producer, consumer: several connections, one token.
        assert endpoint.requests == [
            {"grant_type": "client_credentials", "scope": "kafka.oncoscrub",
             "client_id": OAUTH_CLIENT}
        ]  # fmt: skip

        refused = KafkaConnection.model_validate(
            {**conn.model_dump(), "sasl_oauth_client_id": "someone-else"}
        )
        [failure] = await asyncio.wait_for(diagnose(refused), 30)
        assert "token endpoint" in str(failure)
        assert "HTTP 401 invalid_client" in str(failure)
        assert endpoint.client_secret not in str(failure)
