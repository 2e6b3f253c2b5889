"""sensor store: readings and alarms

Takes over a store made by the hand-written DDL of earlier versions (no version table): a table
that exists is kept as it is, and an alarms table from before work orders were followed gains
its ``order_status`` column.  The tables go into the schema of the version table (PostgreSQL:
the store's schema; SQLite: none).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return op.get_context().version_table_schema


def upgrade() -> None:
    schema = _schema()
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("readings", schema=schema):
        op.create_table(
            "readings",
            sa.Column("sensor_id", sa.Text(), nullable=False),
            sa.Column("quantity", sa.Text(), nullable=False),
            sa.Column("ts", sa.BigInteger(), nullable=False),
            sa.Column("value", sa.Double(), nullable=False),
            sa.Column("source", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("sensor_id", "quantity", "ts"),
            schema=schema,
        )
    if not inspector.has_table("alarms", schema=schema):
        op.create_table(
            "alarms",
            sa.Column(
                "alarm_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                autoincrement=True,
                nullable=False,
            ),
            sa.Column("sensor_id", sa.Text(), nullable=False),
            sa.Column("kind", sa.Text(), nullable=False),
            sa.Column("level", sa.Integer(), nullable=False),
            sa.Column("opened_ts", sa.BigInteger(), nullable=False),
            sa.Column("last_ts", sa.BigInteger(), nullable=False),
            sa.Column("closed_ts", sa.BigInteger(), nullable=True),
            sa.Column("peak_value", sa.Double(), nullable=True),
            sa.Column("triggers", sa.Integer(), nullable=False),
            sa.Column("flapping", sa.Integer(), server_default=sa.text("0"), nullable=False),
            sa.Column("work_order", sa.Text(), nullable=True),
            sa.Column("order_status", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("alarm_id"),
            schema=schema,
            sqlite_autoincrement=True,
        )
    elif "order_status" not in {c["name"] for c in inspector.get_columns("alarms", schema=schema)}:
        op.add_column("alarms", sa.Column("order_status", sa.Text(), nullable=True), schema=schema)


def downgrade() -> None:
    schema = _schema()
    op.drop_table("alarms", schema=schema)
    op.drop_table("readings", schema=schema)
