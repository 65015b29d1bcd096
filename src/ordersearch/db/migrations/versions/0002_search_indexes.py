"""search indexes: account-led indexes for the selective Pull filters measured by bench/

- orders (account_id, booking_status_folded, create_date, id) replaces
  (account_id, booking_status_folded): a status filter with a date range, or paged by the
  default createDate sort, reads only matching index entries in order.
- orders (account_id, agreement_date): agreementStartDate/EndDate and sortParam
  agreementDate.
- order_fields (account_id, key_folded, value_folded, order_id) replaces
  (account_id, key_folded, value_folded): with two or more additionalFields pairs, each
  further pair is one index probe per candidate order instead of a range scan (on
  PostgreSQL a generic plan of a prepared statement took 5 s at 10^5 orders without it).
- enquiries (account_id, assign_emp_id, status_folded) replaces (account_id,
  assign_emp_id): lead filters "assigned to X with status Y" in one range.
- enquiries (account_id, next_follow_up_date): nextFollowupStartDate/EndDate.
- customers: on PostgreSQL a pg_trgm GIN index on name_folded, so `name` (a substring)
  is answered from the index instead of a scan of the account's customers. SQLite has no
  trigram index: the same declaration is a plain B-tree there, which substring search
  does not use (see docs/performance.md: the scan of the account's (account_id,
  name_folded) index is what SQLite does).
- ANALYZE of the four tables, so the planners know the new indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_account_booking_status")
        batch.create_index(
            "ix_orders_account_booking_status_created",
            ["account_id", "booking_status_folded", "create_date", "id"],
        )
        batch.create_index("ix_orders_account_agreement_date", ["account_id", "agreement_date"])
    with op.batch_alter_table("order_fields") as batch:
        batch.drop_index("ix_order_fields_account_key_value")
        batch.create_index(
            "ix_order_fields_account_key_value_order",
            ["account_id", "key_folded", "value_folded", "order_id"],
        )
    with op.batch_alter_table("enquiries") as batch:
        batch.drop_index("ix_enquiries_account_assign")
        batch.create_index(
            "ix_enquiries_account_assign_status", ["account_id", "assign_emp_id", "status_folded"]
        )
        batch.create_index(
            "ix_enquiries_account_next_follow_up", ["account_id", "next_follow_up_date"]
        )
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_customers_name_trgm", "customers", ["name_folded"],
            postgresql_using="gin", postgresql_ops={"name_folded": "gin_trgm_ops"},
        )
    else:
        with op.batch_alter_table("customers") as batch:
            batch.create_index("ix_customers_name_trgm", ["name_folded"])
    # Statistics for the new indexes: without them SQLite's planner guessed, and scanned a
    # whole account through the new agreement-date index for an additionalFields filter.
    for table in ("customers", "enquiries", "orders", "order_fields"):
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_name_trgm")
    with op.batch_alter_table("enquiries") as batch:
        batch.drop_index("ix_enquiries_account_next_follow_up")
        batch.drop_index("ix_enquiries_account_assign_status")
        batch.create_index("ix_enquiries_account_assign", ["account_id", "assign_emp_id"])
    with op.batch_alter_table("order_fields") as batch:
        batch.drop_index("ix_order_fields_account_key_value_order")
        batch.create_index(
            "ix_order_fields_account_key_value", ["account_id", "key_folded", "value_folded"]
        )
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_account_agreement_date")
        batch.drop_index("ix_orders_account_booking_status_created")
        batch.create_index(
            "ix_orders_account_booking_status", ["account_id", "booking_status_folded"]
        )
