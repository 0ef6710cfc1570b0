"""Why the cluster cannot be reached, in words that name the setting to check.

aiokafka's clients fail with "Unable to bootstrap from [...]" whatever the cause (a wrong
password, an untrusted certificate, a wrong port) and log the cause at error level on every
attempt. ``diagnose`` connects to each bootstrap address once, as the clients would, and
says what went wrong there: for a start-up error line and for an operator. It never puts
a secret in its answer.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.metadata import MetadataRequest

from worker.kafka_client import (
    KafkaConnection,
    SaslMechanism,
    TokenRequestError,
    env_name,
)

# A certificate that does not name the host (X509_V_ERR_HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH).
_NAME_MISMATCH = {62, 64}


@dataclass(frozen=True, slots=True)
class Failure:
    address: str
    problem: str

    def __str__(self) -> str:
        return f"{self.address}: {self.problem}"


async def diagnose(conn: KafkaConnection, timeout_s: float = 10.0) -> list[Failure]:
    """The failures at each bootstrap address; empty when one of them answers as it should
    (a client needs only one to learn the cluster)."""
    failures: list[Failure] = []
    for address in _addresses(conn.bootstrap_servers):
        problem = await _try(conn, address, timeout_s)
        if problem is None:
            return []
        failures.append(Failure(address, problem))
    return failures


def _addresses(bootstrap: str) -> list[str]:
    return [a.strip() for a in bootstrap.split(",") if a.strip()]


async def _try(conn: KafkaConnection, address: str, timeout_s: float) -> str | None:
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return f"not host:port (check {env_name('bootstrap_servers')})"
    options = conn.options()
    options.pop("bootstrap_servers")
    try:
        connection = await asyncio.wait_for(
            create_conn(
                host,
                int(port),
                client_id="oncoscrub-probe",
                request_timeout_ms=int(timeout_s * 1000),
                **options,
            ),
            timeout_s,
        )
        try:
            # With TLS 1.3 a broker refuses a missing client certificate only after the
            # handshake: a request shows whether the connection is really open.
            await asyncio.wait_for(connection.send(MetadataRequest([])), timeout_s)
        finally:
            connection.close()
    except Exception as exc:  # every failure is explained, none re-raised
        return explain(conn, exc, timeout_s)
    return None


def explain(conn: KafkaConnection, exc: BaseException, timeout_s: float = 10.0) -> str:
    """One failure to connect, in words, naming the settings to check."""
    protocol = env_name("security_protocol")
    cause = exc
    while isinstance(cause, KafkaConnectionError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, TokenRequestError):
        return str(cause)
    if isinstance(cause, SaslAuthenticationFailed):
        if conn.sasl_mechanism is SaslMechanism.OAUTHBEARER:
            return (
                "the broker refused the OAUTHBEARER token (check the token's audience and "
                f"scope, {env_name('sasl_oauth_scope')}, and the broker's validator)"
            )
        return (
            f"the broker refused user {conn.sasl_username!r} with SASL {conn.sasl_mechanism} "
            f"(check {env_name('sasl_username')} and {env_name('sasl_password')})"
        )
    if isinstance(cause, UnsupportedSaslMechanismError):
        return (
            f"the listener does not offer SASL {conn.sasl_mechanism} "
            f"(check {env_name('sasl_mechanism')})"
        )
    if isinstance(cause, ssl.SSLCertVerificationError):
        if cause.verify_code in _NAME_MISMATCH:
            return (
                f"the broker's certificate does not name this address ({cause.verify_message}; "
                f"use a name the certificate holds in {env_name('bootstrap_servers')})"
            )
        return (
            f"the broker's certificate is not trusted ({cause.verify_message}; "
            f"check {env_name('ssl_cafile')})"
        )
    if isinstance(cause, ssl.SSLError) and "CERTIFICATE" in str(cause.reason):
        verb = (
            "refused the client certificate" if conn.ssl_certfile else "wants a client certificate"
        )
        return (
            f"the broker {verb} ({cause.reason}; check {env_name('ssl_certfile')} and "
            f"{env_name('ssl_keyfile')}, and that the broker trusts their CA)"
        )
    if isinstance(cause, ssl.SSLError):
        return (
            f"the TLS handshake failed ({cause.reason or cause.strerror}): is this a TLS "
            f"listener ({protocol} is {conn.security_protocol})? Does it require a client "
            f"certificate ({env_name('ssl_certfile')})?"
        )
    if isinstance(cause, TimeoutError):
        return f"no answer within {timeout_s:g} s (a firewall, or a listener of another protocol?)"
    if isinstance(cause, ConnectionRefusedError):
        return f"nothing listens there (check {env_name('bootstrap_servers')})"
    if isinstance(cause, ConnectionResetError | asyncio.IncompleteReadError):
        return (
            f"the broker closed the connection: the listener may expect another {protocol} "
            f"(it is {conn.security_protocol})"
        )
    if isinstance(cause, OSError):
        return f"cannot connect ({cause.strerror or type(cause).__name__})"
    if isinstance(cause, KafkaConnectionError):
        return (
            f"the broker closed the connection: the listener may expect another {protocol} "
            f"(it is {conn.security_protocol})"
        )
    if isinstance(cause, KafkaError):
        return f"{type(cause).__name__}: {cause}"
    return type(cause).__name__
