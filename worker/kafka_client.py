"""How every Kafka client of the product reaches the cluster: the bootstrap address and the
security settings (TLS, SASL), validated once, turned into aiokafka's and FastStream's options.

``KafkaSecurity`` holds the security settings; ``worker.settings.Settings`` inherits them, so
they are read from the flat environment names (``ONCOSCRUB_SECURITY_PROTOCOL``,
``ONCOSCRUB_SASL_MECHANISM``, ``ONCOSCRUB_SSL_CAFILE``, ...) and checked when the settings
load: a worker with an inconsistent or unreadable security configuration does not start,
and the error names the setting, never a secret's value.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ipaddress
import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from aiokafka.abc import AbstractTokenProvider
from aiokafka.helpers import create_ssl_context
from faststream.security import (
    BaseSecurity,
    SASLOAuthBearer,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"

    @property
    def tls(self) -> bool:
        return self in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)

    @property
    def sasl(self) -> bool:
        return self in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    OAUTHBEARER = "OAUTHBEARER"


class KafkaSecurityError(ValueError):
    """The Kafka security settings cannot work as given (the message names the setting)."""


class TokenRequestError(RuntimeError):
    """The OAUTHBEARER token endpoint gave no token."""


def env_name(field: str) -> str:
    """The environment variable a security field is read from."""
    return f"ONCOSCRUB_{field.upper()}"


_SSL_FILES = ("ssl_cafile", "ssl_certfile", "ssl_keyfile")
_SASL_FIELDS = (
    "sasl_mechanism", "sasl_username", "sasl_password", "sasl_oauth_token_url",
    "sasl_oauth_client_id", "sasl_oauth_client_secret", "sasl_oauth_scope",
)  # fmt: skip
_OAUTH_REQUIRED = ("sasl_oauth_token_url", "sasl_oauth_client_id", "sasl_oauth_client_secret")


class KafkaSecurity(BaseModel):
    """TLS and SASL settings. Unset (the default) is PLAINTEXT, as on a local broker."""

    # A validation error would otherwise print the input, secrets included.
    model_config = ConfigDict(hide_input_in_errors=True)

    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    # TLS: the CA that signed the brokers' certificates (the system's CAs when unset), and a
    # client certificate and key for mutual TLS.
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None
    # Off only for brokers whose certificates do not name the address clients use.
    ssl_check_hostname: bool = True
    sasl_mechanism: SaslMechanism | None = None
    # PLAIN and SCRAM.
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # OAUTHBEARER: a token from the identity provider's token endpoint (OAuth 2.0 client
    # credentials grant), refreshed before it expires.
    sasl_oauth_token_url: str | None = None
    sasl_oauth_client_id: str | None = None
    sasl_oauth_client_secret: SecretStr | None = None
    sasl_oauth_scope: str | None = None

    @field_validator("security_protocol", "sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator(*_SSL_FILES, "ssl_key_password", *_SASL_FIELDS, mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A Secret or ConfigMap key left empty ("") means "not set", not a file named "".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = self.security_problems()
        if problems:
            raise KafkaSecurityError("; ".join(problems))
        if self.security_protocol.tls:
            self.ssl_context()  # unreadable files or a wrong key password fail here, at start
        return self

    def security_problems(self) -> list[str]:
        """What is inconsistent in the settings (files are checked when the context loads)."""
        protocol = self.security_protocol
        found: list[str] = []
        given = {name for name in (*_SSL_FILES, *_SASL_FIELDS) if getattr(self, name) is not None}
        if self.ssl_key_password is not None:
            given.add("ssl_key_password")
        if not protocol.tls:
            for name in sorted(n for n in given if n.startswith("ssl_")):
                found.append(
                    f"{env_name(name)} is set but {env_name('security_protocol')} is "
                    f"{protocol}: TLS settings apply only to SSL or SASL_SSL"
                )
        elif self.ssl_certfile is None:
            for name in ("ssl_keyfile", "ssl_key_password"):
                if name in given:
                    found.append(f"{env_name(name)} needs {env_name('ssl_certfile')}")
        if not protocol.sasl:
            for name in sorted(n for n in given if n.startswith("sasl_")):
                found.append(
                    f"{env_name(name)} is set but {env_name('security_protocol')} is "
                    f"{protocol}: SASL settings apply only to SASL_PLAINTEXT or SASL_SSL"
                )
            return found
        mechanism = self.sasl_mechanism
        if mechanism is None:
            choices = ", ".join(m.value for m in SaslMechanism)
            found.append(
                f"{env_name('sasl_mechanism')} is required when "
                f"{env_name('security_protocol')} is {protocol} (one of {choices})"
            )
            return found
        needed: tuple[str, ...]
        unused: tuple[str, ...]
        if mechanism is SaslMechanism.OAUTHBEARER:
            needed = _OAUTH_REQUIRED
            unused = ("sasl_username", "sasl_password")
        else:
            needed = ("sasl_username", "sasl_password")
            unused = (*_OAUTH_REQUIRED, "sasl_oauth_scope")
        found += [
            f"{env_name(name)} is required for SASL {mechanism}"
            for name in needed
            if getattr(self, name) is None
        ]
        found += [
            f"{env_name(name)} is set but SASL {mechanism} does not use it"
            for name in unused
            if getattr(self, name) is not None
        ]
        if self.sasl_oauth_token_url is not None:
            problem = _token_url_problem(self.sasl_oauth_token_url)
            if problem:
                found.append(f"{env_name('sasl_oauth_token_url')} {problem}")
        return found

    def ssl_context(self) -> ssl.SSLContext:
        """The client TLS context: the CA, the client certificate, the hostname check."""
        for name in _SSL_FILES:
            path: Path | None = getattr(self, name)
            if path is not None and not _readable_file(path):
                raise KafkaSecurityError(f"{env_name(name)}: {path} is not a readable file")
        try:
            context: ssl.SSLContext = create_ssl_context(cafile=self.ssl_cafile)
        except (ssl.SSLError, ValueError) as exc:
            raise KafkaSecurityError(
                f"{env_name('ssl_cafile')}: {self.ssl_cafile} holds no usable PEM "
                f"certificate ({_reason(exc)})"
            ) from None
        if self.ssl_certfile is not None:
            password = self.ssl_key_password
            try:
                context.load_cert_chain(
                    self.ssl_certfile,
                    self.ssl_keyfile,
                    # A callable, so that OpenSSL never prompts on a terminal for it.
                    password=(lambda: password.get_secret_value()) if password else (lambda: ""),
                )
            except (ssl.SSLError, ValueError) as exc:
                raise KafkaSecurityError(
                    f"{env_name('ssl_certfile')}/{env_name('ssl_keyfile')}: the client "
                    f"certificate and key could not be loaded (not PEM, a key that does not "
                    f"match, or a wrong {env_name('ssl_key_password')}: {_reason(exc)})"
                ) from None
        context.check_hostname = self.ssl_check_hostname
        return context

    def token_provider(self) -> ClientCredentialsTokenProvider | None:
        """The OAUTHBEARER token provider (one per endpoint and client, shared)."""
        if self.sasl_mechanism is not SaslMechanism.OAUTHBEARER:
            return None
        assert self.sasl_oauth_token_url
        assert self.sasl_oauth_client_id
        assert self.sasl_oauth_client_secret is not None
        return _shared_provider(
            self.sasl_oauth_token_url,
            self.sasl_oauth_client_id,
            self.sasl_oauth_client_secret.get_secret_value(),
            self.sasl_oauth_scope,
        )


class KafkaConnection(KafkaSecurity):
    """Where the cluster is and how to authenticate: what every Kafka client is given."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=1)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol.value,
        }
        if self.security_protocol.tls:
            options["ssl_context"] = self.ssl_context()
        mechanism = self.sasl_mechanism
        if self.security_protocol.sasl and mechanism is not None:
            options["sasl_mechanism"] = mechanism.value
            if mechanism is SaslMechanism.OAUTHBEARER:
                options["sasl_oauth_token_provider"] = self.token_provider()
            else:
                assert self.sasl_password is not None
                options["sasl_plain_username"] = self.sasl_username
                options["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return options

    def faststream_security(self) -> BaseSecurity | None:
        """The same settings for FastStream's ``KafkaBroker(security=...)``."""
        protocol = self.security_protocol
        context = self.ssl_context() if protocol.tls else None
        mechanism = self.sasl_mechanism
        if not protocol.sasl or mechanism is None:
            return BaseSecurity(ssl_context=context) if context is not None else None
        if mechanism is SaslMechanism.OAUTHBEARER:
            return SASLOAuthBearer(ssl_context=context, use_ssl=protocol.tls)
        kinds = {
            SaslMechanism.PLAIN: SASLPlaintext,
            SaslMechanism.SCRAM_SHA_256: SASLScram256,
            SaslMechanism.SCRAM_SHA_512: SASLScram512,
        }
        assert self.sasl_username is not None
        assert self.sasl_password is not None
        return kinds[mechanism](
            username=self.sasl_username,
            password=self.sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=protocol.tls,
        )

    def faststream_options(self) -> dict[str, Any]:
        """Keyword arguments for ``KafkaBroker``: the security, and for OAUTHBEARER the
        token provider (FastStream takes it beside ``security``)."""
        options: dict[str, Any] = {"security": self.faststream_security()}
        provider = self.token_provider()
        if provider is not None:
            options["sasl_oauth_token_provider"] = provider
        return options


# -- OAUTHBEARER -----------------------------------------------------------------------------


class ClientCredentialsTokenProvider(AbstractTokenProvider):  # type: ignore[misc]
    """Access tokens from an OAuth 2.0 token endpoint (client credentials grant, the client
    authenticated with HTTP Basic, RFC 6749 §2.3.1), reused until most of their lifetime
    has passed. Thread-safe and loop-agnostic: every client of a process shares one."""

    # Refresh once this share of a token's lifetime has passed, so that a connection never
    # authenticates with a token about to expire.
    REFRESH_AT = 0.8

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.timeout_s = timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetches = 0

    async def token(self) -> str:
        cached = self._token
        if cached is not None and self._clock() < self._refresh_at:
            return cached
        return await asyncio.to_thread(self._fetch)

    def _fetch(self) -> str:
        with self._lock:
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            token, lifetime = self._request()
            self._token = token
            self._refresh_at = self._clock() + lifetime * self.REFRESH_AT
            self.fetches += 1
            return token

    def _request(self) -> tuple[str, float]:
        where = _display_url(self.token_url)
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        quote = functools.partial(urllib.parse.quote, safe="")
        basic = f"{quote(self.client_id)}:{quote(self._secret)}".encode()
        # The URL is https, or http to a loopback address (checked with the settings).
        request = urllib.request.Request(  # noqa: S310
            self.token_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": "Basic " + base64.b64encode(basic).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                body = response.read(1 << 20)
        except urllib.error.HTTPError as exc:
            raise TokenRequestError(
                f"OAUTHBEARER: the token endpoint {where} refused client "
                f"{self.client_id!r}: HTTP {exc.code}{_oauth_error(exc)} "
                f"(check {env_name('sasl_oauth_client_id')}, "
                f"{env_name('sasl_oauth_client_secret')}, {env_name('sasl_oauth_scope')})"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TokenRequestError(
                f"OAUTHBEARER: the token endpoint {where} "
                f"({env_name('sasl_oauth_token_url')}) could not be reached: {reason}"
            ) from None
        try:
            payload = json.loads(body)
            token = payload["access_token"]
            lifetime = float(payload.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise TokenRequestError(
                f"OAUTHBEARER: the token endpoint {where} answered without an access_token"
            ) from None
        if not isinstance(token, str) or not token:
            raise TokenRequestError(
                f"OAUTHBEARER: the token endpoint {where} answered an empty access_token"
            )
        return token, max(lifetime, 1.0)


@functools.cache
def _shared_provider(
    url: str, client_id: str, secret: str, scope: str | None
) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(url, client_id, secret, scope)


def _token_url_problem(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an https:// URL"
    if parts.username or parts.password:
        return "must not carry credentials (use ONCOSCRUB_SASL_OAUTH_CLIENT_ID and _SECRET)"
    if parts.scheme == "http" and not _loopback(parts.hostname):
        # The client secret would cross the network in the clear.
        return "must be https (http only for a loopback address)"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _display_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    """The RFC 6749 error code of a refusal (invalid_client, invalid_scope, ...), if any."""
    try:
        code = json.loads(exc.read(1 << 16)).get("error")
    except (ValueError, AttributeError, OSError):
        return ""
    return f" {code}" if isinstance(code, str) and code.isascii() and len(code) < 64 else ""


def _readable_file(path: Path) -> bool:
    try:
        with path.open("rb"):
            return path.is_file()
    except OSError:
        return False


def _reason(exc: Exception) -> str:
    """OpenSSL's reason (KEY_VALUES_MISMATCH, "PEM lib" for a wrong password): no secret."""
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    strerror = getattr(exc, "strerror", None) or (exc.args[-1] if exc.args else None)
    if isinstance(strerror, str):
        return strerror.split(" (_ssl.c")[0]
    return type(exc).__name__
