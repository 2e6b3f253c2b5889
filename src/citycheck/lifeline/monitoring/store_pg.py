"""Former home of the PostgreSQL sensor store; kept so that existing imports keep working.

The sensor store is one SQLAlchemy code path for SQLite and PostgreSQL now:
:class:`citycheck.lifeline.monitoring.store.SensorStore` (tables in their own schema on
PostgreSQL, default ``lifeline``) and :func:`~citycheck.lifeline.monitoring.store.open_store`.
"""

from __future__ import annotations

from citycheck.lifeline.monitoring.store import SensorStore, open_store

__all__ = ["PgSensorStore", "open_store"]


def PgSensorStore(url: str, *, schema: str = "lifeline") -> SensorStore:  # noqa: N802 - was a class
    """A :class:`~citycheck.lifeline.monitoring.store.SensorStore` on PostgreSQL ``url``.

    Parameters
    ----------
    url : str
        ``postgresql://`` or ``postgresql+psycopg://`` URL.
    schema : str
        Schema of the tables (lower-case letters, digits, underscore).
    """
    if "://" not in url or not url.startswith("postgres"):
        raise ValueError(f"{url!r}: not a PostgreSQL URL")
    return SensorStore(url, schema=schema)
