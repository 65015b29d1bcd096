"""accounts, users and employees commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ordersearch.accounts import resolve_employee
from ordersearch.cli import strip_one_newline
from ordersearch.db.engine import Database
from ordersearch.errors import AuthenticationFailed
from tests.cli.conftest import (
    Invoke,
    authenticate,
    failed,
    get_account,
    make_account,
    ok,
)
from tests.conftest import PULL, basic_auth


def test_accounts_create(cli: Invoke, database: Database) -> None:
    result = ok(cli("accounts", "create", "--cm-id", "1000298", "--subdomain", "acme",
                    "--name", "Acme Realty", "--timezone", "Asia/Kolkata"))
    assert "cmId 1000298" in result.stdout
    account = get_account(database)
    assert (account.subdomain, account.name, account.timezone) == (
        "acme", "Acme Realty", "Asia/Kolkata"
    )


def test_accounts_create_defaults_to_utc(cli: Invoke, database: Database) -> None:
    ok(cli("accounts", "create", "--cm-id", "7", "--subdomain", "seven", "--name", "Seven"))
    assert get_account(database, 7).timezone == "UTC"


def test_duplicate_account_is_one_red_line(cli: Invoke) -> None:
    make_account(cli)
    result = cli("accounts", "create", "--cm-id", "1000298", "--subdomain", "other",
                 "--name", "Other")
    assert failed(result) == "error: cmId: an account with cmId 1000298 exists already\n"


def test_invalid_subdomain_message_is_printed_literally(cli: Invoke) -> None:
    result = cli("accounts", "create", "--cm-id", "5", "--subdomain", "Not[Valid]", "--name", "X")
    assert "'Not[Valid]' must match [a-z0-9-]{1,63}" in failed(result)


def test_users_create_reads_password_from_stdin(cli: Invoke, database: Database) -> None:
    make_account(cli)
    ok(cli("users", "create", "--cm-id", "1000298", "--username", "alice", "--role", "write",
           "--password-stdin", input="s3cret pass\n"))
    principal = authenticate(database, "alice", "s3cret pass")
    assert (principal.role, principal.account.cm_id) == ("write", 1000298)
    with pytest.raises(AuthenticationFailed):
        authenticate(database, "alice", "s3cret pass\n")


def test_users_default_role_is_read(cli: Invoke, database: Database) -> None:
    make_account(cli)
    ok(cli("users", "create", "--cm-id", "1000298", "--username", "reader", "--password-stdin",
           input="pw"))
    assert authenticate(database, "reader", "pw").role == "read"


def test_cli_user_passes_api_auth(cli: Invoke, client: TestClient) -> None:
    make_account(cli)
    ok(cli("users", "create", "--cm-id", "1000298", "--username", "api", "--password-stdin",
           input="api-pass\n"))
    body = {"cmId": 1000298, "customerIds": "1"}
    assert client.post(PULL, json=body, headers=basic_auth("api", "api-pass")).status_code != 401
    assert client.post(PULL, json=body, headers=basic_auth("api", "nope")).status_code == 401


@pytest.mark.parametrize(
    ("sent", "password"),
    [("pw\n", "pw"), ("pw", "pw"), ("pw\n\n", "pw\n"), ("pw\r\n", "pw"), (" pw \n", " pw ")],
)
def test_only_one_trailing_newline_is_dropped(sent: str, password: str) -> None:
    assert strip_one_newline(sent) == password


def test_password_keeps_all_but_one_trailing_newline(cli: Invoke, database: Database) -> None:
    make_account(cli)
    ok(cli("users", "create", "--cm-id", "1000298", "--username", "nl", "--password-stdin",
           input="two\n\n"))
    assert authenticate(database, "nl", "two\n").username == "nl"
    with pytest.raises(AuthenticationFailed):
        authenticate(database, "nl", "two")


def test_empty_password_is_refused(cli: Invoke) -> None:
    make_account(cli)
    result = cli("users", "create", "--cm-id", "1000298", "--username", "x", "--password-stdin",
                 input="\n")
    assert "password: must not be empty" in failed(result)


def test_users_create_needs_an_existing_account(cli: Invoke) -> None:
    result = cli("users", "create", "--cm-id", "42", "--username", "x", "--password-stdin",
                 input="pw\n")
    assert "no account with cmId 42" in failed(result)


def test_duplicate_username_is_refused(cli: Invoke) -> None:
    make_account(cli)
    args = ("users", "create", "--cm-id", "1000298", "--username", "dup", "--password-stdin")
    ok(cli(*args, input="pw\n"))
    assert "'dup' is taken" in failed(cli(*args, input="pw\n"))


def test_users_disable_then_auth_fails(cli: Invoke, database: Database) -> None:
    make_account(cli)
    ok(cli("users", "create", "--cm-id", "1000298", "--username", "bob", "--password-stdin",
           input="pw\n"))
    authenticate(database, "bob", "pw")
    ok(cli("users", "disable", "--username", "bob"))
    with pytest.raises(AuthenticationFailed):
        authenticate(database, "bob", "pw")
    ok(cli("users", "enable", "--username", "bob"))
    assert authenticate(database, "bob", "pw").username == "bob"


def test_disable_unknown_user(cli: Invoke) -> None:
    assert "no user 'ghost'" in failed(cli("users", "disable", "--username", "ghost"))


def test_users_set_password(cli: Invoke, database: Database) -> None:
    make_account(cli)
    ok(cli("users", "create", "--cm-id", "1000298", "--username", "carol", "--password-stdin",
           input="old-pass\n"))
    ok(cli("users", "set-password", "--username", "carol", "--password-stdin",
           input="new-pass\n"))
    with pytest.raises(AuthenticationFailed):
        authenticate(database, "carol", "old-pass")
    assert authenticate(database, "carol", "new-pass").username == "carol"


def test_employees_add(cli: Invoke, database: Database) -> None:
    make_account(cli)
    result = ok(cli("employees", "add", "--cm-id", "1000298", "--code", "E7", "--name",
                    "Asha Rao", "--email", "asha@example.com", "--id", "77"))
    assert "Added employee 77 (E7)" in result.stdout
    ok(cli("employees", "add", "--cm-id", "1000298", "--code", "E8", "--name", "Ben"))
    account = get_account(database)
    with database.read() as conn:
        assert resolve_employee(conn, account, code="E7") == 77
        assert resolve_employee(conn, account, email="ASHA@example.com") == 77
        assert resolve_employee(conn, account, code="E8") == 78
    assert "'E7' exists already" in failed(
        cli("employees", "add", "--cm-id", "1000298", "--code", "E7", "--name", "Again")
    )


def test_employees_import_reports_bad_lines(
    cli: Invoke, database: Database, tmp_path: Path
) -> None:
    make_account(cli)
    path = tmp_path / "employees.csv"
    path.write_text(
        "code,name,email,id\n"
        "E1,Asha Rao,asha@example.com,101\n"
        "E2,Ben Thomas,,\n"
        "E1,Duplicate Code,,\n"
        "E3,Bad Id,,abc\n"
        "\n"
        "E4,,,\n"
        "E5,\"Müller, Jürgen\",jm@example.de,105\n",
        encoding="utf-8",
    )
    result = cli("employees", "import", str(path), "--cm-id", "1000298")
    errors = failed(result)
    assert "line 4: code: employee code 'E1' exists already" in errors
    assert "line 5: id: 'abc' is not an integer" in errors
    assert "line 7: name: must not be empty" in errors
    assert "Imported 3 employees, 3 lines failed." in result.stdout
    account = get_account(database)
    with database.read() as conn:
        assert resolve_employee(conn, account, code="E1") == 101
        assert resolve_employee(conn, account, code="E2") == 102
        assert resolve_employee(conn, account, code="E5") == 105
        assert resolve_employee(conn, account, code="E3") is None


def test_employees_import_checks_the_header(cli: Invoke, tmp_path: Path) -> None:
    make_account(cli)
    path = tmp_path / "employees.csv"
    path.write_text("code,fullname\nE1,Asha\n", encoding="utf-8")
    result = cli("employees", "import", str(path), "--cm-id", "1000298")
    assert "unknown: fullname" in failed(result)
