"""The `ordersearch` command line: serve the API, administer tenants, import and demo data.

Every command that touches the database opens `ORDERSEARCH_DATABASE_URL` (default: a SQLite
file under ./data/) and brings its schema up to date first, so a fresh URL just works.
Service errors become one red line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import csv
import itertools
import os
import shlex
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import orjson
import typer
import uvicorn
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.exc import ArgumentError, OperationalError
from typer.core import TyperGroup

from ordersearch import accounts as accounts_service
from ordersearch import client as api_client
from ordersearch import importer
from ordersearch.api.routes import ADD_UPDATE_PATH, PULL_PATH
from ordersearch.db import migrate
from ordersearch.db.engine import Database
from ordersearch.demo import (
    DEFAULT_SEED,
    DEMO_ORDERS,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    DemoLoad,
    example_add_update_body,
    load_demo,
    seed_pull_body,
)
from ordersearch.errors import OrderSearchError
from ordersearch.tenancy import Account

APP_FACTORY = "ordersearch.api.app:create_app"

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str) -> typer.Exit:
    """Print `message` as one red line on stderr; raise the returned Exit (status 1)."""
    err.print(f"error: {message}", style="red", markup=False)
    return typer.Exit(1)


class CliGroup(TyperGroup):
    """Turns the errors a user can cause into one red line instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:  # ctx: the Context of the click typer vendors
        try:
            return super().invoke(ctx)
        except OrderSearchError as exc:
            raise fail(exc.message) from None
        except OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise fail(f"database unavailable: {reason}") from None
        except ArgumentError as exc:
            raise fail(f"ORDERSEARCH_DATABASE_URL: {exc}") from None


app = typer.Typer(
    cls=CliGroup,
    help="ordersearch: a multi-tenant order store answering Kapture CRM's Pull Order API.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)
accounts_app = typer.Typer(help="Accounts (tenants).", no_args_is_help=True)
users_app = typer.Typer(help="API users (Basic auth credentials).", no_args_is_help=True)
employees_app = typer.Typer(help="An account's employees.", no_args_is_help=True)
db_app = typer.Typer(help="Schema migrations.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(users_app, name="users")
app.add_typer(employees_app, name="employees")
app.add_typer(db_app, name="db")

CmId = Annotated[int, typer.Option("--cm-id", help="The account's cmId.", min=1)]
Username = Annotated[str, typer.Option("--username", help="The API user's name.")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from stdin (one trailing newline is dropped); "
        "without it, the password is prompted for.",
    ),
]
InputFile = Annotated[
    Path,
    typer.Argument(
        metavar="FILE", exists=True, dir_okay=False, readable=True, help="The file to read."
    ),
]


@contextmanager
def open_database(*, upgrade: bool = True) -> Iterator[Database]:
    """The database of ORDERSEARCH_DATABASE_URL, migrated to the current schema."""
    database = Database.from_url()
    try:
        if upgrade:
            migrate.upgrade(database.engine)
        yield database
    finally:
        database.dispose()


def upgrade_database() -> str | None:
    """Apply the missing migrations; the revision the database is at now."""
    with open_database() as database:
        return migrate.current_revision(database.engine)


def find_account(database: Database, cm_id: int) -> Account:
    with database.read() as conn:
        return accounts_service.get_account(conn, cm_id)


def read_password(from_stdin: bool) -> str:
    if not from_stdin:
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return strip_one_newline(sys.stdin.read())


def strip_one_newline(text: str) -> str:
    """Drop one trailing line ending ("\\n" or "\\r\\n"), as `echo` or a file leaves it."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


@contextmanager
def progress_bar(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only on a terminal); yields `update(completed)`."""
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda completed: progress.update(task, completed=completed)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "-"


# --- serve ---------------------------------------------------------------------------


def setup_database(
    *, demo_orders: int = DEMO_ORDERS, on_progress: Callable[[int], None] | None = None
) -> DemoLoad:
    """What `serve --setup` (and so `make run`) does before serving: migrate, and load the
    demo into a database that has no demo account yet (nothing when it has one)."""
    with open_database() as database:
        return load_demo(
            database, order_count=demo_orders, if_missing=True, on_progress=on_progress
        )


def curl_examples(host: str, port: int) -> list[str]:
    """Ready-to-paste calls of both endpoints with the demo credentials."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    base = f"http://{host}:{port}"
    credentials = shlex.quote(f"{DEMO_USERNAME}:{DEMO_PASSWORD}")
    return [
        f"curl -s -u {credentials} -H 'Content-Type: application/json' "
        f"{base}{path} -d {shlex.quote(orjson.dumps(body).decode())}"
        for path, body in (
            (PULL_PATH, seed_pull_body()), (ADD_UPDATE_PATH, example_add_update_body())
        )
    ]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port (default: $PORT or 8000).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    setup: Annotated[
        bool,
        typer.Option(
            "--setup",
            help=f"Load the demo ({DEMO_ORDERS:,} orders) into a database without the demo "
            "account, and print example curl calls, before serving.",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (migrating the database first)."""
    if setup:
        with progress_bar(DEMO_ORDERS, "loading demo") as update:
            load = setup_database(on_progress=update)
        if load.account_created:
            out.print(f"Loaded the demo: {load.orders:,} orders in {load.seconds:.1f} s.")
        else:
            out.print("The demo account (cmId 1000298) is there already.")
        out.print(f"Try it (user {DEMO_USERNAME}, password {DEMO_PASSWORD}):", markup=False)
        for example in curl_examples(host, port):
            typer.echo(f"\n{example}")
        typer.echo()
    else:
        upgrade_database()
    # The JSON access log (api/observability.py) already records every request.
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                access_log=False)


# --- accounts, users, employees --------------------------------------------------------


@accounts_app.command("create")
def accounts_create(
    cm_id: CmId,
    subdomain: Annotated[str, typer.Option(help="Unique, [a-z0-9-]{1,63}.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    timezone: Annotated[str, typer.Option(help="IANA timezone, e.g. Asia/Kolkata.")] = "UTC",
) -> None:
    """Create an account (tenant)."""
    with open_database() as database, database.write() as conn:
        account = accounts_service.create_account(
            conn, cm_id=cm_id, subdomain=subdomain, name=name, timezone=timezone
        )
    out.print(
        f"Created account cmId {account.cm_id} ({account.subdomain}, {account.timezone}).",
        markup=False,
    )


class Role(StrEnum):
    read = "read"
    write = "write"


@users_app.command("create")
def users_create(
    cm_id: CmId,
    username: Username,
    role: Annotated[
        Role, typer.Option(help="read: pull only; write: pull and ingest.")
    ] = Role.read,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an API user of an account."""
    password = read_password(password_stdin)
    with open_database() as database, database.write() as conn:
        account = accounts_service.get_account(conn, cm_id)
        accounts_service.create_user(
            conn, account, username=username, password=password, role=role.value
        )
    out.print(f"Created {role.value} user {username!r} in account cmId {cm_id}.", markup=False)


@users_app.command("disable")
def users_disable(username: Username) -> None:
    """Disable an API user: its requests get 401 from now on."""
    with open_database() as database, database.write() as conn:
        accounts_service.disable_user(conn, username)
    out.print(f"Disabled user {username!r}.", markup=False)


@users_app.command("enable")
def users_enable(username: Username) -> None:
    """Enable a disabled API user again."""
    with open_database() as database, database.write() as conn:
        accounts_service.enable_user(conn, username)
    out.print(f"Enabled user {username!r}.", markup=False)


@users_app.command("set-password")
def users_set_password(username: Username, password_stdin: PasswordStdin = False) -> None:
    """Replace an API user's password; the old one stops working at once."""
    password = read_password(password_stdin)
    with open_database() as database, database.write() as conn:
        accounts_service.set_password(conn, username, password)
    out.print(f"Changed the password of {username!r}.", markup=False)


@employees_app.command("add")
def employees_add(
    cm_id: CmId,
    code: Annotated[str, typer.Option(help="Unique in the account.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    emp_id: Annotated[
        int | None, typer.Option("--id", help="Employee id (default: the next free one).")
    ] = None,
) -> None:
    """Register an employee (creator, assignee or approver of orders)."""
    with open_database() as database, database.write() as conn:
        account = accounts_service.get_account(conn, cm_id)
        employee = accounts_service.add_employee(
            conn, account, code=code, name=name, email=email, emp_id=emp_id
        )
    out.print(
        f"Added employee {employee.emp_id} ({employee.code}) to account cmId {cm_id}.",
        markup=False,
    )


@employees_app.command("import")
def employees_import(file: InputFile, cm_id: CmId) -> None:
    """Register the employees of a CSV file with the header code,name,email,id (email and id
    may be empty). Bad lines are reported with their line numbers; the rest is imported."""
    with open_database() as database:
        account = find_account(database, cm_id)
        tally = report(importer.import_employees(database, account, file), "line")
    out.print(f"Imported {tally.imported} employees, {tally.failed} lines failed.")
    if tally.failed:
        raise typer.Exit(1)


@dataclass
class Tally:
    imported: int = 0
    failed: int = 0
    warnings: Counter[str] = field(default_factory=Counter)
    first_warned_at: dict[str, int] = field(default_factory=dict)


def report(
    outcomes: Iterable[importer.Outcome],
    unit: str,
    progress: Callable[[int], None] | None = None,
) -> Tally:
    """Print each failure as `<unit> N: message` on stderr as it happens; count outcomes
    and warnings, and pass the number done so far to `progress`."""
    tally = Tally()
    for done, outcome in enumerate(outcomes, start=1):
        if outcome.ok:
            tally.imported += 1
        else:
            tally.failed += 1
            err.print(f"{unit} {outcome.position}: {outcome.message}", style="red", markup=False)
        for warning in outcome.warnings:
            tally.warnings[warning] += 1
            tally.first_warned_at.setdefault(warning, outcome.position)
        if progress is not None:
            progress(done)
    return tally


# --- import ----------------------------------------------------------------------------


class FileFormat(StrEnum):
    auto = "auto"
    ndjson = "ndjson"
    json = "json"
    csv = "csv"


@app.command(
    "import",
    help="Import add-update bodies from FILE into an account: NDJSON (one body per line), "
    "a JSON array of bodies, or CSV with flat columns. Each body is applied on its own, as "
    "the add-update endpoint does; a failed one is reported with its line number (for a "
    "JSON array: its element number, 1-based) and the rest is still imported. Exit status "
    "1 when any failed.\n\n" + importer.FLAT_CSV_HELP,
)
def import_orders(
    file: InputFile,
    cm_id: CmId,
    file_format: Annotated[
        FileFormat,
        typer.Option(
            "--format",
            help="auto: CSV for *.csv, else a JSON array when the file starts with '[', "
            "else NDJSON.",
        ),
    ] = FileFormat.auto,
) -> None:
    source = importer.open_source(file, cast(importer.Format, file_format.value))
    with open_database() as database:
        account = find_account(database, cm_id)
        where = (
            "element numbers (1-based) in the JSON array" if source.unit == "element"
            else "line numbers"
        )
        err.print(
            f"Importing {file} ({source.format}, about {source.total:,} orders) into cmId "
            f"{cm_id}; failures are reported by {where}.", markup=False,
        )
        started = time.perf_counter()
        with progress_bar(source.total, "importing") as update:
            outcomes = importer.import_elements(database, account, source.elements)
            tally = report(outcomes, source.unit, progress=update)
        seconds = time.perf_counter() - started
    for warning, times in tally.warnings.items():
        first = tally.first_warned_at[warning]
        err.print(
            f"warning ({times}x, first at {source.unit} {first}): {warning}",
            style="yellow", markup=False,
        )
    done = tally.imported + tally.failed
    out.print(
        f"Imported {tally.imported:,}, failed {tally.failed:,} in {seconds:.1f} s "
        f"({rate(done, seconds)} orders/s)."
    )
    if tally.failed:
        raise typer.Exit(1)


# --- demo ------------------------------------------------------------------------------


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=0, help="How many orders to add.")] = DEMO_ORDERS,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = DEFAULT_SEED,
) -> None:
    """Create the demo account (cmId 1000298, subdomain demo, Asia/Kolkata) with the write
    user demo/demo and 20 employees, when missing, and add realistic orders to it, among
    them several of customer 191696570 (the seed's example body)."""
    with open_database() as database, progress_bar(orders, "loading demo") as update:
        load = load_demo(database, order_count=orders, seed=seed, on_progress=update)
    state = "Created" if load.account_created else "Added to"
    out.print(
        f"{state} the demo account cmId {load.account.cm_id}: {load.orders:,} orders "
        f"({load.rows:,} rows) in {load.seconds:.1f} s, {rate(load.orders, load.seconds)} "
        f"orders/s. User {DEMO_USERNAME}, password {DEMO_PASSWORD}.",
        markup=False,
    )


# --- pull ----------------------------------------------------------------------------


class PullOutput(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


# The table's columns: views 2 and 3, then view 1 (which has no customer name or amount).
TABLE_COLUMNS = (
    ("orderId", "erpOrderId", "customerName", "createDate", "bookingStatus", "amount"),
    ("orderId", "erpOrderId", "customerId", "createDate", "bookingStatus", "bookingSubStatus"),
)
TABLE_HEADERS = {
    "orderId": "order", "erpOrderId": "erp order", "customerName": "customer",
    "customerId": "customer", "createDate": "created",
    "bookingStatus": "status", "bookingSubStatus": "sub-status",
}
TABLE_DEFAULT_LIMIT = 100


def _filter_pairs(pairs: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` options as body keys; a VALUE that starts with { or [ is read as JSON."""
    filters: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--filter {pair!r}: expected KEY=VALUE, e.g. attr1=Tower B")
        if value.lstrip().startswith(("{", "[")):
            try:
                filters[key.strip()] = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise fail(f"--filter {pair!r}: not valid JSON: {exc}") from None
        else:
            filters[key.strip()] = value
    return filters


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return "" if value is None else str(value)


def _table_cell(column: str, value: Any) -> str:
    if column == "createDate" and isinstance(value, str):
        return value[:16].replace("T", " ")  # local time of the account, to the minute
    return escape(_cell(value))


def _print_table(orders: api_client.OrderIterator, limit: int) -> None:
    rows = list(itertools.islice(orders, limit))
    if not rows:
        out.print("No orders match.")
        return
    columns = next(c for c in (*TABLE_COLUMNS, tuple(rows[0])[:6]) if set(c) <= set(rows[0]))
    total = orders.total_count
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        caption=None if total is None else f"{len(rows):,} of {total:,} orders",
    )
    for column in columns:
        wrap = column in ("customerName", "bookingStatus", "bookingSubStatus")
        table.add_column(TABLE_HEADERS.get(column, column), no_wrap=not wrap, overflow="fold")
    for order in rows:
        table.add_row(*(_table_cell(c, order.get(c)) for c in columns))
    out.print(table)


def _write_orders(orders: api_client.OrderIterator, output: PullOutput, limit: int | None) -> None:
    if output is PullOutput.table:
        _print_table(orders, limit or TABLE_DEFAULT_LIMIT)
        return
    rows = itertools.islice(orders, limit) if limit else orders
    if output is PullOutput.json:
        for order in rows:
            sys.stdout.write(orjson.dumps(order).decode() + "\n")
        return
    writer = csv.writer(sys.stdout)
    header: list[str] | None = None
    for order in rows:
        if header is None:
            header = list(order)
            writer.writerow(header)
        writer.writerow([_cell(order.get(key)) for key in header])


@app.command("pull")
def pull_command(
    cm_id: CmId,
    username: Annotated[
        str, typer.Option(envvar="ORDERSEARCH_USERNAME", help="The API user's name.")
    ],
    url: Annotated[
        str, typer.Option(envvar="ORDERSEARCH_URL", help="The server's base URL.")
    ] = "http://127.0.0.1:8000",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from stdin (one trailing newline is dropped); else "
            "$ORDERSEARCH_PASSWORD, else it is prompted for.",
        ),
    ] = False,
    customer_ids: Annotated[
        str | None, typer.Option(help="Customer ids, comma-separated.")
    ] = None,
    order_ids: Annotated[str | None, typer.Option(help="Order ids, comma-separated.")] = None,
    enquiry_ids: Annotated[
        str | None, typer.Option(help="Enquiry (lead) ids, comma-separated.")
    ] = None,
    erp_order_id: Annotated[
        str | None, typer.Option(help="ERP order ids, comma-separated, exact.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Part of the customer's name.")] = None,
    phone: Annotated[
        str | None, typer.Option(help="Phones (customer's or a contact's), comma-separated.")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="E-mail addresses, comma-separated.")
    ] = None,
    city: Annotated[str | None, typer.Option(help="Customer cities, comma-separated.")] = None,
    booking_status: Annotated[
        str | None, typer.Option(help="Booking statuses, comma-separated.")
    ] = None,
    create_start: Annotated[
        str | None, typer.Option(help="Created on or after (yyyy-MM-dd[ HH:mm[:ss]]).")
    ] = None,
    create_end: Annotated[
        str | None, typer.Option(help="Created on or before (a date alone: that whole day).")
    ] = None,
    booking_start: Annotated[str | None, typer.Option(help="Booked on or after.")] = None,
    booking_end: Annotated[str | None, typer.Option(help="Booked on or before.")] = None,
    filter_pairs: Annotated[
        list[str] | None,
        typer.Option(
            "--filter", metavar="KEY=VALUE",
            help="Any Pull filter by its body key (docs/pull-orders.md), repeatable: "
            "--filter attr1='Tower B' --filter 'additionalFields={\"floor\": 3}' "
            "(a VALUE starting with { or [ is JSON).",
        ),
    ] = None,
    sort: Annotated[
        str | None, typer.Option(help="sortParam, e.g. 'amount desc' (default createDate desc).")
    ] = None,
    view: Annotated[int, typer.Option(min=1, max=3, help="viewId: 1, 2 or 3.")] = 2,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, help=f"At most N orders in all (default: all; {TABLE_DEFAULT_LIMIT} for "
            "the table)."
        ),
    ] = None,
    output: Annotated[
        PullOutput, typer.Option(help="table, json (one order per line) or csv.")
    ] = PullOutput.table,
) -> None:
    """Search a server's orders with the Pull Order API, following every page."""
    named = {
        "customerIds": customer_ids, "orderIds": order_ids, "enquiryIds": enquiry_ids,
        "erpOrderId": erp_order_id, "name": name, "phone": phone, "email": email,
        "city": city, "bookingStatus": booking_status, "createStartDate": create_start,
        "createEndDate": create_end, "bookingStartDate": booking_start,
        "bookingEndDate": booking_end,
    }
    filters = {key: value for key, value in named.items() if value is not None}
    filters.update(_filter_pairs(filter_pairs or []))
    reserved = sorted(api_client.RESERVED_KEYS & set(filters))
    if reserved:
        raise fail(f"--filter {reserved[0]}: not a filter; use --cm-id, --view, --sort, --limit")
    if password_stdin:
        password = strip_one_newline(sys.stdin.read())
    elif "ORDERSEARCH_PASSWORD" in os.environ:
        password = os.environ["ORDERSEARCH_PASSWORD"]
    else:
        password = typer.prompt("Password", hide_input=True)
    if limit is None and output is PullOutput.table:
        limit = TABLE_DEFAULT_LIMIT
    page_size = min(limit or api_client.MAX_PAGE_SIZE, api_client.MAX_PAGE_SIZE)
    try:
        with api_client.Client(url, username, password, cm_id=cm_id) as client:
            orders = client.pull(view_id=view, sort=sort, page_size=page_size, **filters)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", api_client.ApiWarning)  # printed below
                _write_orders(orders, output, limit)
            for warning in orders.warnings:
                err.print(f"warning: {warning}", style="yellow", markup=False)
    except api_client.ClientError as exc:
        raise fail(str(exc)) from None


# --- db --------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations that are missing."""
    out.print(f"The database is at revision {upgrade_database()} (current).")


@db_app.command("check")
def db_check() -> None:
    """Exit 1 when the database is not at the current schema revision."""
    with open_database(upgrade=False) as database:
        current = migrate.current_revision(database.engine)
    head = migrate.head_revision()
    if current != head:
        raise fail(
            f"the database is at revision {current}, the code expects {head}; "
            "run `ordersearch db upgrade`"
        )
    out.print(f"The database is at revision {current} (current).")
