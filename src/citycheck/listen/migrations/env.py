"""Alembic environment: runs on the connection handed over by citycheck.listen.db.upgrade."""

from __future__ import annotations

from alembic import context

from citycheck.listen.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via citycheck.listen.db.upgrade
    raise RuntimeError("run migrations through citycheck.listen.db.upgrade(engine)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
