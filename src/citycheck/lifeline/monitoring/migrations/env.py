"""Alembic environment of the sensor store: runs on the connection handed over by
citycheck.lifeline.monitoring.store.upgrade, with its own version table (and, on PostgreSQL,
in the store's schema), so that it never meets the hotline's migrations in a shared database."""

from __future__ import annotations

from alembic import context

from citycheck.lifeline.monitoring.store import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via citycheck.lifeline.monitoring.store.upgrade
    raise RuntimeError("run migrations through citycheck.lifeline.monitoring.store.upgrade(engine)")
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    version_table_schema=context.config.attributes.get("schema"),
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
