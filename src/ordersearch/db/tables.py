"""The schema: one table per record kind, every row and every index led by the account.

Text that filters match case-insensitively is stored twice: as sent (returned to clients)
and Unicode-casefolded in a `*_folded` column (compared and indexed). Folding happens in
Python so that SQLite and PostgreSQL give the same answers (SQLite's `lower()` is ASCII-only).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# BigInteger primary keys become INTEGER on SQLite so that they alias the rowid and
# autoincrement; PostgreSQL keeps BIGINT with an identity/serial default.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Timestamps are stored as naive UTC; responses convert them to the account's timezone.
Timestamp = DateTime(timezone=False)

ATTR_COUNT = 15
ATTR_NAMES = [f"attr{i}" for i in range(1, ATTR_COUNT + 1)]


def _folded(name: str, length: int = 255) -> list[Column]:
    return [Column(name, String(length)), Column(f"{name}_folded", String(length))]


accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("cm_id", BigInteger, nullable=False, unique=True),
    Column("subdomain", String(63), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("created_at", Timestamp, nullable=False),
)

api_users = Table(
    "api_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("username", String(255), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # Bumped on every change; cached verifications remember the version they saw.
    Column("version", Integer, nullable=False, server_default="1"),
    Column("updated_at", Timestamp, nullable=False),
)

employees = Table(
    "employees",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("emp_id", BigInteger, nullable=False),
    Column("code", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("email", String(255)),
    Column("email_folded", String(255)),
    UniqueConstraint("account_id", "emp_id"),
    UniqueConstraint("account_id", "code"),
    Index("ix_employees_account_email", "account_id", "email_folded"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("customer_code", String(255)),
    *_folded("name"),
    Column("phone", String(64)),
    Column("phone_digits", String(64)),
    Column("phone_last10", String(10)),
    *_folded("email"),
    *_folded("city"),
    *_folded("state"),
    *_folded("country"),
    Column("address", Text),
    Column("pincode", String(32)),
    Column("zone", String(255)),
    Column("additional_fields", JSON),
    # Every other field of Kapture's add-update customer body, kept as sent.
    Column("extra", JSON),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index("ix_customers_account_code", "account_id", "customer_code"),
    Index("ix_customers_account_phone_last10", "account_id", "phone_last10"),
    Index("ix_customers_account_phone_digits", "account_id", "phone_digits"),
    Index("ix_customers_account_email", "account_id", "email_folded"),
    Index("ix_customers_account_name", "account_id", "name_folded"),
    Index("ix_customers_account_city", "account_id", "city_folded"),
    # `name` substring search: pg_trgm GIN on PostgreSQL; a plain (unused) B-tree on SQLite,
    # where the scan of ix_customers_account_name serves it (migration 0002).
    Index("ix_customers_name_trgm", "name_folded", postgresql_using="gin",
          postgresql_ops={"name_folded": "gin_trgm_ops"}),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("name", String(255)),
    Column("phone", String(64)),
    Column("phone_digits", String(64)),
    Column("phone_last10", String(10)),
    *_folded("email"),
    Column("extra", JSON),
    Index("ix_contacts_account_customer", "account_id", "customer_id"),
    Index("ix_contacts_account_phone_last10", "account_id", "phone_last10"),
    Index("ix_contacts_account_phone_digits", "account_id", "phone_digits"),
    Index("ix_contacts_account_email", "account_id", "email_folded"),
)

enquiries = Table(
    "enquiries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    *_folded("status"),
    *_folded("sub_status"),
    *_folded("priority"),
    Column("assign_emp_id", BigInteger),
    Column("creator_id", BigInteger),
    Column("secondary_source_id", BigInteger),
    Column("create_date", Timestamp, nullable=False),
    Column("next_follow_up_date", Timestamp),
    Column("last_follow_up_date", Timestamp),
    Column("expected_closure_date", Timestamp),
    Column("extra", JSON),
    Column("updated_at", Timestamp, nullable=False),
    Index("ix_enquiries_account_customer", "account_id", "customer_id"),
    Index("ix_enquiries_account_status", "account_id", "status_folded"),
    Index("ix_enquiries_account_create_date", "account_id", "create_date"),
    Index("ix_enquiries_account_assign_status", "account_id", "assign_emp_id", "status_folded"),
    Index("ix_enquiries_account_next_follow_up", "account_id", "next_follow_up_date"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("enquiry_id", Id, ForeignKey("enquiries.id")),
    Column("erp_order_id", String(255)),
    Column("erp_invoice_id", String(255)),
    Column("client_reference_id", String(255)),
    Column("create_date", Timestamp, nullable=False),
    *_folded("booking_status"),
    *_folded("booking_sub_status"),
    Column("booking_date", Timestamp),
    Column("agreement_date", Timestamp),
    Column("creator_id", BigInteger),
    Column("assign_id", BigInteger),
    Column("zone_id", BigInteger),
    Column("block_id", BigInteger),
    Column("unit_id", BigInteger),
    Column("approval_designation_id", BigInteger),
    Column("approved_by_id", BigInteger),
    *_folded("pricing_status"),
    # The amount as a canonical decimal string (returned) and as a number (sorted).
    Column("amount", String(40)),
    Column("amount_value", Float),
    Column("currency", String(16)),
    Column("payment_mode", String(64)),
    Column("order_type", String(64)),
    Column("remarks", Text),
    *[c for name in ATTR_NAMES for c in _folded(name, 1024)],
    Column("additional_fields", JSON),
    Column("extra", JSON),
    Column("updated_at", Timestamp, nullable=False),
    Index("ix_orders_account_create_date", "account_id", "create_date", "id"),
    Index("ix_orders_account_customer", "account_id", "customer_id", "create_date"),
    Index("ix_orders_account_enquiry", "account_id", "enquiry_id"),
    Index("ix_orders_account_erp_order", "account_id", "erp_order_id"),
    Index("ix_orders_account_erp_invoice", "account_id", "erp_invoice_id"),
    Index("ix_orders_account_client_ref", "account_id", "client_reference_id"),
    Index("ix_orders_account_booking_status_created", "account_id", "booking_status_folded",
          "create_date", "id"),
    Index("ix_orders_account_booking_date", "account_id", "booking_date"),
    Index("ix_orders_account_agreement_date", "account_id", "agreement_date"),
    Index("ix_orders_account_updated_at", "account_id", "updated_at"),
    Index("ix_orders_account_attr1", "account_id", "attr1_folded"),
    Index("ix_orders_account_attr2", "account_id", "attr2_folded"),
    Index("ix_orders_account_attr3", "account_id", "attr3_folded"),
)

# One row per (order, additional field): lets `additionalFields` filters use an index
# instead of parsing JSON, identically on both backends.
order_fields = Table(
    "order_fields",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("key_folded", String(255), nullable=False),
    Column("value_folded", String(1024)),
    Index("ix_order_fields_account_key_value_order", "account_id", "key_folded", "value_folded",
          "order_id"),
    Index("ix_order_fields_order", "order_id"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sku_id", String(255)),
    Column("product_name", String(255)),
    Column("rate", String(40)),
    Column("quantity", String(40)),
    Column("discount", String(40)),
    Column("extra", JSON),
    Index("ix_order_items_order", "order_id", "position"),
)
