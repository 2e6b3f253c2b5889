"""index for the duplicate lookup by place: (service_code, lat)

The duplicate check asks for open orders of one service inside a small bounding box.  The first
index, (service_code, status, requested_at), cannot narrow ``status NOT IN (...)`` and a 7-day
window, so every intake scanned all of a busy service's recent orders; latitude within +-150 m
is very selective.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_dup_place", ["service_code", "lat"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_dup_place")
