"""The Kafka connection settings: what is refused at start (naming the setting, never a
secret), what each client is given, the TLS context against a real TLS server, and the
OAUTHBEARER token provider against a local token endpoint."""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import SASLOAuthBearer, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from deploy.kafkatools import connection, connection_env
from deploy.local_pki import LocalPki, make_pki
from tests.oauth_endpoint import token_endpoint
from worker import cpu_quota
from worker.kafka_client import (
    ClientCredentialsTokenProvider,
    KafkaConnection,
    TokenRequestError,
)
from worker.settings import Settings

SECRET = "hunter2-do-not-print"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPki:
    return make_pki(tmp_path_factory.mktemp("pki"), hosts=("kafka.example",))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("ONCOSCRUB_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    return monkeypatch


def refusal(**given: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        KafkaConnection(**given)
    return str(caught.value)


def scram(**more: Any) -> dict[str, Any]:
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "oncoscrub-worker",
        "sasl_password": SECRET,
        **more,
    }


# -- refused at start ------------------------------------------------------------------------


def test_plaintext_is_the_default_and_gives_no_security_options() -> None:
    conn = KafkaConnection(bootstrap_servers="b1:9092,b2:9092")
    assert conn.options() == {
        "bootstrap_servers": "b1:9092,b2:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert conn.faststream_security() is None


OAUTH = {
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "OAUTHBEARER",
    "sasl_oauth_token_url": "https://idp.example/token",
    "sasl_oauth_client_id": "c",
    "sasl_oauth_client_secret": SECRET,
}
SASL_PLAIN = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN"}


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_password": SECRET},
         "ONCOSCRUB_SASL_MECHANISM is required"),
        (scram(sasl_password=None),
         "ONCOSCRUB_SASL_PASSWORD is required for SASL SCRAM-SHA-512"),
        # An empty Secret value is no password.
        (scram(sasl_password=""), "ONCOSCRUB_SASL_PASSWORD is required"),
        (scram(sasl_username=" "), "ONCOSCRUB_SASL_USERNAME is required"),
        ({"sasl_mechanism": "PLAIN", "sasl_password": SECRET},
         "ONCOSCRUB_SASL_MECHANISM is set but ONCOSCRUB_SECURITY_PROTOCOL is PLAINTEXT"),
        ({**SASL_PLAIN, "sasl_username": "u", "sasl_password": SECRET, "ssl_cafile": "/x.pem"},
         "ONCOSCRUB_SSL_CAFILE is set but ONCOSCRUB_SECURITY_PROTOCOL is SASL_PLAINTEXT"),
        (scram(sasl_oauth_client_id="c"),
         "ONCOSCRUB_SASL_OAUTH_CLIENT_ID is set but SASL SCRAM-SHA-512 does not use it"),
        ({**OAUTH, "sasl_oauth_client_secret": None},
         "ONCOSCRUB_SASL_OAUTH_CLIENT_SECRET is required for SASL OAUTHBEARER"),
        ({**OAUTH, "sasl_oauth_token_url": "http://idp.example/token"},
         "ONCOSCRUB_SASL_OAUTH_TOKEN_URL must be https"),
        ({**OAUTH, "sasl_password": SECRET},
         "ONCOSCRUB_SASL_PASSWORD is set but SASL OAUTHBEARER does not use it"),
        ({"security_protocol": "SSL", "ssl_keyfile": "/k.pem"},
         "ONCOSCRUB_SSL_KEYFILE needs ONCOSCRUB_SSL_CERTFILE"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
        ({"security_protocol": "TLS"}, "security_protocol"),
    ],
)  # fmt: skip
def test_an_inconsistent_configuration_is_refused_naming_the_setting(
    given: dict[str, Any], named: str
) -> None:
    message = refusal(**given)
    assert named in message
    assert SECRET not in message


def test_a_missing_certificate_file_is_named(tmp_path: Path) -> None:
    message = refusal(**scram(ssl_cafile=tmp_path / "nowhere.pem"))
    assert f"ONCOSCRUB_SSL_CAFILE: {tmp_path / 'nowhere.pem'} is not a readable file" in message


def test_a_ca_file_without_a_certificate_is_named(pki: LocalPki) -> None:
    message = refusal(**scram(ssl_cafile=pki.client_key))
    assert "ONCOSCRUB_SSL_CAFILE" in message
    assert "no usable PEM certificate" in message


def test_a_wrong_key_password_is_named_without_the_password(pki: LocalPki) -> None:
    message = refusal(
        security_protocol="SSL",
        ssl_cafile=pki.ca,
        ssl_certfile=pki.client_cert,
        ssl_keyfile=pki.client_key,
        ssl_key_password=SECRET,
    )
    assert "ONCOSCRUB_SSL_KEY_PASSWORD" in message
    assert SECRET not in message


def test_settings_read_the_flat_names_and_never_print_a_secret(
    clean_env: pytest.MonkeyPatch, pki: LocalPki
) -> None:
    env = {
        "ONCOSCRUB_BOOTSTRAP_SERVERS": "kafka.example:9093",
        "ONCOSCRUB_SECURITY_PROTOCOL": "sasl_ssl",
        "ONCOSCRUB_SASL_MECHANISM": "scram-sha-256",
        "ONCOSCRUB_SASL_USERNAME": "oncoscrub-worker",
        "ONCOSCRUB_SASL_PASSWORD": SECRET,
        "ONCOSCRUB_SSL_CAFILE": str(pki.ca),
        "ONCOSCRUB_GROUP_INSTANCE_ID": "oncoscrub-worker-3",
    }
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = Settings()
    conn = settings.kafka
    assert conn.bootstrap_servers == "kafka.example:9093"
    assert (conn.security_protocol, conn.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-256")
    assert settings.group_instance_id == "oncoscrub-worker-3"
    assert SECRET not in repr(settings) + repr(conn)

    # Any refusal, this one's or another setting's, shows no input (the secrets with it).
    clean_env.setenv("ONCOSCRUB_LOG_ID_KEY", "another-" + SECRET)
    clean_env.setenv("ONCOSCRUB_SSL_CERTFILE", str(pki.client_cert))
    clean_env.setenv("ONCOSCRUB_SSL_KEY_PASSWORD", SECRET)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "ONCOSCRUB_SSL_KEY_PASSWORD" in str(caught.value)
    assert SECRET not in str(caught.value)
    clean_env.delenv("ONCOSCRUB_SSL_CERTFILE")
    clean_env.delenv("ONCOSCRUB_SSL_KEY_PASSWORD")
    clean_env.setenv("ONCOSCRUB_MAX_DECISION_BYTES", "5000")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "max_decision_bytes" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_group_instance_id_kafka_would_refuse_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ONCOSCRUB_GROUP_INSTANCE_ID", "worker 0")
    with pytest.raises(ValidationError, match="group_instance_id"):
        Settings()


# -- what the clients are given --------------------------------------------------------------


def test_scram_over_tls_options(pki: LocalPki) -> None:
    options = KafkaConnection(**scram(ssl_cafile=pki.ca)).options()
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "oncoscrub-worker",
        "sasl_plain_password": SECRET,
    }
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("mechanism", "kind"),
    [("PLAIN", SASLPlaintext), ("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
def test_faststream_gets_the_same_security(
    mechanism: str, kind: type[SASLPlaintext], pki: LocalPki
) -> None:
    conn = KafkaConnection(**scram(sasl_mechanism=mechanism, ssl_cafile=pki.ca))
    security = conn.faststream_security()
    assert isinstance(security, kind)
    assert security.use_ssl
    assert security.ssl_context is not None
    assert (security.username, security.password) == ("oncoscrub-worker", SECRET)
    # FastStream turns them into the options the other clients are given.
    parsed = parse_security(security)
    direct = conn.options()
    assert isinstance(parsed.pop("ssl_context"), ssl.SSLContext)
    assert parsed == {k: direct[k] for k in parsed}
    KafkaBroker(conn.bootstrap_servers, **conn.faststream_options())  # takes them


def test_oauthbearer_gives_a_token_provider_to_every_client() -> None:
    conn = KafkaConnection(
        security_protocol="SASL_SSL",
        sasl_mechanism="OAUTHBEARER",
        sasl_oauth_token_url="https://idp.example/oauth2/token",
        sasl_oauth_client_id="oncoscrub-worker",
        sasl_oauth_client_secret=SECRET,
        sasl_oauth_scope="kafka",
    )
    provider = conn.options()["sasl_oauth_token_provider"]
    assert isinstance(provider, ClientCredentialsTokenProvider)
    # One provider (and so one token) for all the clients of a process.
    assert conn.model_copy().options()["sasl_oauth_token_provider"] is provider
    options = conn.faststream_options()
    assert isinstance(options["security"], SASLOAuthBearer)
    assert options["sasl_oauth_token_provider"] is provider


def test_a_worker_subprocess_gets_the_same_connection(
    clean_env: pytest.MonkeyPatch, pki: LocalPki
) -> None:
    conn = KafkaConnection(
        bootstrap_servers="kafka.example:9093",
        security_protocol="SSL",
        ssl_cafile=pki.ca,
        ssl_certfile=pki.client_cert,
        ssl_keyfile=pki.client_key,
        ssl_key_password=pki.client_key_password,
        ssl_check_hostname=False,
    )
    for name, value in connection_env(conn).items():
        clean_env.setenv(name, value)
    assert Settings().kafka == conn
    assert connection("127.0.0.1:9092") == KafkaConnection(bootstrap_servers="127.0.0.1:9092")


# -- TLS against a real TLS server -----------------------------------------------------------


async def _handshake(server_pki: LocalPki, conn: KafkaConnection) -> None:
    """A TLS handshake with a server whose certificate names only kafka.example."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(server_pki.server)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(5))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=conn.options()["ssl_context"], server_hostname="127.0.0.1"
        )
        writer.write(b"hello")
        assert await reader.readexactly(5) == b"hello"
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_the_hostname_check_refuses_a_certificate_for_another_name(pki: LocalPki) -> None:
    strict = KafkaConnection(security_protocol="SSL", ssl_cafile=pki.ca)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        await _handshake(pki, strict)
    # Off, the certificate must still come from the CA.
    await _handshake(pki, strict.model_copy(update={"ssl_check_hostname": False}))
    untrusted = KafkaConnection(
        security_protocol="SSL", ssl_cafile=pki.untrusted_ca, ssl_check_hostname=False
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed"):
        await _handshake(pki, untrusted)


# -- OAUTHBEARER token provider --------------------------------------------------------------


async def test_the_token_is_fetched_with_client_credentials_and_reused() -> None:
    now = [1000.0]
    with token_endpoint(lifetime_s=100) as endpoint:
        provider = ClientCredentialsTokenProvider(
            endpoint.url, endpoint.client_id, endpoint.client_secret, "kafka", clock=lambda: now[0]
        )
        first = await provider.token()
        assert await provider.token() == first
        assert endpoint.requests == [
            {"grant_type": "client_credentials", "scope": "kafka", "client_id": endpoint.client_id}
        ]
        now[0] += 81  # past 80% of its 100 s lifetime: renewed before it expires
        await provider.token()
        assert len(endpoint.requests) == 2
        assert provider.fetches == 2


async def test_a_refused_token_request_says_why_without_the_secret() -> None:
    with token_endpoint() as endpoint:
        provider = ClientCredentialsTokenProvider(endpoint.url, endpoint.client_id, SECRET)
        with pytest.raises(TokenRequestError) as caught:
            await provider.token()
    message = str(caught.value)
    assert "HTTP 401 invalid_client" in message
    assert "ONCOSCRUB_SASL_OAUTH_CLIENT_SECRET" in message
    assert SECRET not in message


async def test_an_unreachable_or_broken_token_endpoint_is_named() -> None:
    with token_endpoint() as endpoint:
        url = endpoint.url
        endpoint.refuse_with = (200, {"token_type": "Bearer"})
        provider = ClientCredentialsTokenProvider(url, endpoint.client_id, endpoint.client_secret)
        with pytest.raises(TokenRequestError, match="without an access_token"):
            await provider.token()
    gone = ClientCredentialsTokenProvider(url, "c", SECRET, timeout_s=2)
    with pytest.raises(TokenRequestError, match="ONCOSCRUB_SASL_OAUTH_TOKEN_URL") as caught:
        await gone.token()
    assert SECRET not in str(caught.value)


# -- deciding processes by CPU quota ---------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_the_cgroup_cpu_quota_is_read(
    tmp_path: Path, files: dict[str, str], quota: float | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota.quota_cpus(tmp_path) == quota
    cpus = cpu_quota.available_cpus(tmp_path)
    allowed = len(os.sched_getaffinity(0))
    # A quota of 1.5 CPUs keeps one process busy, not two (each would be throttled).
    assert cpus == (allowed if quota is None else max(1, min(int(quota), allowed)))


def test_deciding_processes_default_to_the_cpus_allowed(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings().decide_processes == min(cpu_quota.available_cpus(), 64)
