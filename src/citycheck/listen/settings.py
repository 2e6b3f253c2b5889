"""Plumbing settings of the hotline service (pydantic-settings; env prefix CITYCHECK_HOTLINE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HotlineSettings(BaseSettings):
    """Settings read from the environment (``CITYCHECK_HOTLINE_DB_URL`` etc.) or passed in."""

    model_config = SettingsConfigDict(env_prefix="CITYCHECK_HOTLINE_")
    # Defaults are given as ``default=`` so that type checkers see every field as optional.

    db_url: str = Field(default="sqlite:///hotline.db", description="SQLAlchemy URL of the store")
    secret: str = Field(default="", description="secret for encryption at rest of personal fields")
    timezone: str = Field(
        default="Asia/Shanghai", description="city timezone for deadlines and output"
    )
    catalogue_file: str | None = Field(default=None, description="city catalogue TOML (None: demo)")
    calendar_file: str | None = Field(
        default=None, description="holiday calendar TOML (None: national)"
    )
    jurisdiction_file: str | None = Field(
        default=None, description="street-office polygons GeoJSON"
    )
    model_file: str | None = Field(
        default=None, description="classifier trained by `hotline train`"
    )
    confidence_threshold: float = Field(default=0.5, ge=0, le=1, description="below: to a person")
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Open311 POSTs per key/IP/minute"
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="SQLite: how long a writer waits for a busy database"
    )
    pg_pool_size: int = Field(
        default=16,
        ge=1,
        description="PostgreSQL: connections each server process keeps open (at least the "
        "requests one process serves at once, or connections are opened per request)",
    )
    pg_max_overflow: int = Field(
        default=8, ge=0, description="PostgreSQL: extra connections at peaks (closed after use)"
    )
    api_key_cache_s: float = Field(
        default=5.0,
        ge=0,
        description="seconds an api_key found active, or a staff token found, is trusted "
        "without a re-read",
    )
    max_body_bytes: int = Field(
        default=64_000, ge=1024, description="largest accepted request body"
    )
    duplicate_radius_m: float = Field(default=150.0, ge=0)
    duplicate_days: float = Field(default=7.0, ge=0)
    duplicate_similarity: float = Field(default=0.25, ge=0, le=1)
    group_commit: bool = Field(
        default=True,
        description="commit concurrent intakes together (one fsync per batch); each is "
        "still acknowledged only after its batch is committed",
    )
    group_commit_writers: int | None = Field(
        default=None,
        ge=1,
        description="PostgreSQL: writer threads per process (None: 1; more overlap round trips; "
        "masters are locked in id order, so batches do not deadlock); SQLite: always 1",
    )
    group_commit_max: int = Field(default=64, ge=1, description="largest batch of a group commit")
    jurisdiction_id: str = Field(default="demo.citycheck", description="Open311 jurisdiction_id")
    public_base_url: str = Field(default="http://127.0.0.1:8311", description="for discovery")
