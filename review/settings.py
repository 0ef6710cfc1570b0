"""The review app's configuration, from environment variables prefixed ``ONCOSCRUB_REVIEW_``.

The broker and the worker's topic names come from the worker's own settings
(``ONCOSCRUB_BOOTSTRAP_SERVERS``, ``ONCOSCRUB_TOPICS__*``), so the app reads the
topics the workers write.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthMode(StrEnum):
    PASSWORD = "password"  # noqa: S105 (a mode's name) — users and argon2 hashes from the users file (default)
    PROXY = "proxy"  # a trusted reverse proxy names the user in a header (single sign-on)


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONCOSCRUB_REVIEW_", extra="ignore", populate_by_name=True
    )

    database_url: str = "sqlite:///oncoscrub-review.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)

    # Topics the app owns: every action, hash-chained, and the checkpoints pinning each
    # chain's head (kept forever, as the audit log's are).
    actions_topic: str = "claims.review-actions"
    actions_checkpoints_topic: str = "claims.review-actions-checkpoints"
    actions_partitions: int = Field(default=3, ge=1)
    # One transactional producer per actions partition, "<prefix>.<topic>.<partition>":
    # a second app instance fences the first per partition, so each chain has one writer.
    transactional_id_prefix: str = "oncoscrub-review"
    app_id: str = "review"

    auth: AuthMode = AuthMode.PASSWORD
    users_file: Path = Path("review-users.toml")
    proxy_user_header: str = "X-Forwarded-User"
    # Requests naming a user in the header are believed only from these addresses.
    proxy_trusted_hosts: tuple[str, ...] = ("127.0.0.1", "::1")
    # Signs the session cookie. Unset: a random key per process, so a restart signs
    # everyone out (and two instances cannot share sessions): set it in production.
    secret_key: SecretStr | None = None
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    session_idle_s: int = Field(default=30 * 60, ge=60)
    secure_cookies: bool = False  # True behind HTTPS: the cookie is then never sent in clear

    # The app feeds its read model itself; a separate ``oncoscrub review feed`` may instead.
    feed: bool = True
    feed_poll_ms: int = Field(default=200, ge=10)
    page_size: int = Field(default=50, ge=5, le=500)
    log_level: str = "INFO"


def with_worker_topics(settings: ReviewSettings, topics: object) -> ReviewSettings:
    """The action topics as the worker's topology names them (``ONCOSCRUB_TOPICS__REVIEW_ACTIONS``
    …), unless this app's own settings name them."""
    update = {}
    for mine, theirs in (
        ("actions_topic", "review_actions"),
        ("actions_checkpoints_topic", "review_actions_checkpoints"),
    ):
        declared = getattr(topics, theirs, None)
        if mine not in settings.model_fields_set and isinstance(declared, str):
            update[mine] = declared
    return settings.model_copy(update=update) if update else settings
