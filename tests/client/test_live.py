"""Through real HTTP: `ordersearch serve` in a subprocess (one per backend), driven by the
Client and by `ordersearch pull` (typer's CliRunner, in this process)."""

from __future__ import annotations

import csv
import io

import orjson
import pytest
from typer.testing import CliRunner

from ordersearch import client as client_module
from ordersearch.cli import app
from ordersearch.client import Client, ConnectionFailed
from tests.client.conftest import CM_ID, READER, WRITER, seed_elements
from tests.live import LiveServer, free_port


def test_client_and_cli_against_a_running_server(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Client(live_server.url, *WRITER, cm_id=CM_ID, timeout=10) as client:
        results = client.add_update(seed_elements(10))
        assert [r["status"] for r in results] == ["success"] * 10
        everything = client.pull_page({"attr1": "tower a, tower b", "limit": 500})["orders"]
        paged = client.pull(page_size=3, attr1=["Tower A", "Tower B"])
        assert list(paged) == everything and paged.pages == 4 and len(everything) == 10
        assert list(client.export(attr1="Tower A, Tower B")) == everything

    runner = CliRunner()
    base = ["pull", "--url", live_server.url, "--cm-id", str(CM_ID)]
    monkeypatch.setenv("ORDERSEARCH_PASSWORD", WRITER[1])
    json_run = runner.invoke(app, [*base, "--username", WRITER[0], "--output", "json",
                                   "--filter", "attr1=Tower A,Tower B", "--sort", "orderId",
                                   "--filter", "customerId=5"])
    assert json_run.exit_code == 0, (json_run.stdout, json_run.stderr)
    assert json_run.stderr == (
        "warning: unknown field 'customerId' ignored; did you mean 'customerIds'?\n"
    )
    lines = [orjson.loads(line) for line in json_run.stdout.splitlines()]
    assert lines == sorted(everything, key=lambda o: o["orderId"])

    monkeypatch.delenv("ORDERSEARCH_PASSWORD")
    csv_run = runner.invoke(
        app,
        [*base, "--username", READER[0], "--password-stdin", "--output", "csv", "--view", "1",
         "--booking-status", "booked", "--create-start", "2024-03-02", "--limit", "2",
         "--filter", 'additionalFields={"parking": "COVERED"}'],
        input=READER[1] + "\n",
    )
    assert csv_run.exit_code == 0, (csv_run.stdout, csv_run.stderr)
    rows = list(csv.DictReader(io.StringIO(csv_run.stdout)))
    booked = [o for o in everything if o["bookingStatus"] == "Booked" and o["createDate"] >=
              "2024-03-02"]
    assert [int(r["orderId"]) for r in rows] == [o["orderId"] for o in booked[:2]]
    assert list(rows[0]) == ["orderId", "erpOrderId", "clientReferenceId", "customerId",
                             "enquiryId", "createDate", "bookingStatus", "bookingSubStatus",
                             "updatedAt"]

    table_run = runner.invoke(app, [*base, "--username", WRITER[0], "--password-stdin",
                                    "--customer-ids", str(results[0]["customer_id"])],
                              input=WRITER[1])
    assert table_run.exit_code == 0, (table_run.stdout, table_run.stderr)
    assert "SO-CLIENT-009" in table_run.stdout and "4 of 4 orders" in table_run.stdout

    bad_password = runner.invoke(app, [*base, "--username", WRITER[0], "--password-stdin",
                                       "--order-ids", "1"], input="wrong\n")
    assert bad_password.exit_code == 1
    assert bad_password.stderr == "error: 401: Invalid Auth Key\n"
    bad_filter = runner.invoke(app, [*base, "--username", WRITER[0], "--password-stdin",
                                     "--order-ids", "1x"], input=WRITER[1])
    assert bad_filter.exit_code == 1
    assert bad_filter.stderr.startswith("error: 400: orderIds: '1x' is not an integer")


def test_cli_reports_an_unreachable_server(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", waits.append)
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app, ["pull", "--url", url, "--username", "u", "--cm-id", "1", "--order-ids", "1"],
        env={"ORDERSEARCH_PASSWORD": "p"},
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"error: no answer from {url}")
    assert len(waits) == 4  # a refused connection is retried: the server may be restarting
    reserved = CliRunner().invoke(
        app, ["pull", "--url", url, "--username", "u", "--cm-id", "1", "--filter", "limit=5"],
        env={"ORDERSEARCH_PASSWORD": "p"},
    )
    assert reserved.exit_code == 1
    assert reserved.stderr == "error: --filter limit: not a filter; use --cm-id, --view, " \
        "--sort, --limit\n"
    with pytest.raises(ConnectionFailed), Client(url, "u", "p", cm_id=1, retries=0) as client:
        list(client.pull(orderIds=1))
