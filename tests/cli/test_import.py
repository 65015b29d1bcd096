"""`ordersearch import`: NDJSON, JSON arrays and flat CSV, one bad element among good ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ordersearch.db.engine import Database
from ordersearch.db.tables import order_fields, order_items, orders
from ordersearch.importer import body_from_flat_row, open_source
from tests.cli.conftest import Invoke, count, failed, make_account, ok


def body(number: int, amount: str = "1500000.00") -> dict[str, Any]:
    return {
        "customer_info": {"customer_name": f"Customer {number}", "phone": f"98450{number:05d}"},
        "order_info": {"erp_order_id": f"ERP-{number}", "amount": amount, "attr1": "Tower A"},
    }


def erp_ids(database: Database) -> set[str]:
    with database.read() as conn:
        return set(conn.scalars(select(orders.c.erp_order_id)))


def test_ndjson_reports_the_bad_line_and_imports_the_rest(
    cli: Invoke, database: Database, tmp_path: Path
) -> None:
    make_account(cli)
    lines = [json.dumps(body(1)), json.dumps(body(2)), json.dumps(body(3, amount="lots")), "",
             json.dumps(body(4)), "{not json", '["an", "array"]']
    path = tmp_path / "orders.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("import", str(path), "--cm-id", "1000298")
    errors = failed(result)
    assert "line 3: order_info.amount:" in errors
    assert "line 6: body: is not valid JSON" in errors
    assert "line 7: is not a JSON object" in errors
    assert "Imported 3, failed 3" in result.stdout and "orders/s" in result.stdout
    assert erp_ids(database) == {"ERP-1", "ERP-2", "ERP-4"}


def test_json_array_reports_element_numbers(
    cli: Invoke, database: Database, tmp_path: Path
) -> None:
    make_account(cli)
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([body(1), {**body(2), "cmId": 999}, body(3)], indent=2))
    result = cli("import", str(path), "--cm-id", "1000298")
    errors = failed(result)
    assert "element numbers (1-based)" in errors
    assert "element 2: cmId does not match the authenticated account" in errors
    assert "Imported 2, failed 1" in result.stdout
    assert erp_ids(database) == {"ERP-1", "ERP-3"}


def test_all_good_exits_zero_and_retries_update(
    cli: Invoke, database: Database, tmp_path: Path
) -> None:
    make_account(cli)
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(json.dumps({**body(n), "extra_key": n}) for n in range(1, 4)))
    result = ok(cli("import", str(path), "--cm-id", "1000298"))
    assert "Imported 3, failed 0" in result.stdout
    assert "warning (3x, first at line 1): unknown field 'extra_key'" in result.stderr
    ok(cli("import", str(path), "--cm-id", "1000298"))  # same erp_order_id: updated, not added
    assert count(database, orders) == 3


CSV = (
    "cmId,customer_info.customer_name,customer_info.phone,customer_info.city,"
    "order_info.erp_order_id,order_info.amount,order_info.attr1,"
    "order_info.additional_fields.floor,order_info.additional_fields.parking,"
    "order_info.product_details.1.sku_id,order_info.product_details.1.rate,"
    "order_info.product_details.2.sku_id,contact_info\n"
    '1000298,Jürgen Müller,+49 89 1234567,München,CSV-1,8450000.00,Tower B,12,Covered,'
    'UNIT-1,8000000.00,PARK-1,"[{""contact_person_name"": ""Käthe""}]"\n'
    "1000298,Bad Amount,9845000002,Pune,CSV-2,twelve,,,,,,,\n"
    '1000298,"Rao, Asha",9845000003,"Pune\nWest",CSV-3,100,,,,,,,\n'
    "1000298,Bad Json,9845000004,Pune,CSV-4,100,,,,,,,[oops\n"
    "\n"
    "1000298,Fine,9845000005,Pune,CSV-5,100,,,,,,,\n"
)


def test_csv_reports_bad_lines_and_imports_the_rest(
    cli: Invoke, database: Database, tmp_path: Path
) -> None:
    make_account(cli)
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    result = cli("import", str(path), "--cm-id", "1000298")
    errors = failed(result)
    assert "line 3: order_info.amount:" in errors
    assert "line 6: contact_info: not valid JSON" in errors  # line 4 holds a two-line cell
    assert "Imported 3, failed 2" in result.stdout
    assert erp_ids(database) == {"CSV-1", "CSV-3", "CSV-5"}
    with database.read() as conn:
        order = conn.execute(select(orders).where(orders.c.erp_order_id == "CSV-1")).one()
        items = conn.execute(
            select(order_items.c.sku_id, order_items.c.rate)
            .where(order_items.c.order_id == order.id).order_by(order_items.c.position)
        ).all()
        fields = dict(conn.execute(
            select(order_fields.c.key_folded, order_fields.c.value_folded)
            .where(order_fields.c.order_id == order.id)
        ).all())
    assert (order.amount, order.attr1) == ("8450000.00", "Tower B")
    assert [tuple(item) for item in items] == [("UNIT-1", "8000000.00"), ("PARK-1", None)]
    assert fields == {"floor": "12", "parking": "covered"}


def test_import_into_unknown_account(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "orders.ndjson"
    path.write_text(json.dumps(body(1)) + "\n")
    assert "no account with cmId 5" in failed(cli("import", str(path), "--cm-id", "5"))


def test_empty_file_is_an_error(cli: Invoke, tmp_path: Path) -> None:
    make_account(cli)
    path = tmp_path / "empty.json"
    path.write_text("  \n")
    assert "is empty" in failed(cli("import", str(path), "--cm-id", "1000298"))


# --- reading, without a database --------------------------------------------------------


def test_format_detection(tmp_path: Path) -> None:
    cases = {
        "a.csv": "order_info.amount\n1\n",
        "b.json": "[{}]",
        "c.json": '{"order_info": {}}\n{"order_info": {}}\n',
        "d.json": '{\n  "order_info": {"amount": "1"}\n}\n',
        "e.txt": "order_info.amount\n1\n",
    }
    formats = {}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        source = open_source(tmp_path / name)
        formats[name] = (source.format, [e.position for e in source.elements])
    assert formats == {
        "a.csv": ("csv", [2]), "b.json": ("json", [1]), "c.json": ("ndjson", [1, 2]),
        "d.json": ("json", [1]), "e.txt": ("csv", [2]),
    }


def test_flat_row_paths() -> None:
    header = [
        "cmId", "customer_info.customer_name", "customer_info.update",
        "order_info.additional_fields.floor", "order_info.product_details.2.sku_id",
        "order_info.product_details.1.sku_id", "contact_info.1.contact_person_phone",
        "enquiry_info.status",
    ]
    cells = ["1000298", "José", "TRUE", "12", "B", "A", "+91 93804-91257", ""]
    assert body_from_flat_row(header, cells) == {
        "cmId": "1000298",
        "customer_info": {"customer_name": "José", "update": True},
        "order_info": {"additional_fields": {"floor": "12"},
                       "product_details": [{"sku_id": "A"}, {"sku_id": "B"}]},
        "contact_info": [{"contact_person_phone": "+91 93804-91257"}],
    }


def test_flat_row_json_cells() -> None:
    header = ["order_info.product_details", "order_info.additional_fields"]
    cells = ['[{"sku_id": "X", "quantity": 2}]', '{"floor": 3}']
    assert body_from_flat_row(header, cells) == {
        "order_info": {"product_details": [{"sku_id": "X", "quantity": 2}],
                       "additional_fields": {"floor": 3}},
    }


@pytest.mark.parametrize(
    ("header", "cells", "message"),
    [
        (["a"], ["1", "2"], "has 2 cells but the header has 1 columns"),
        (["order_info.additional_fields"], ["[1]"], "expected a JSON object"),
        (["customer_info.update"], ["maybe"], "'maybe' is not true or false"),
        (["order_info.product_details", "order_info.product_details.1.sku_id"], ["[]", "A"],
         "given twice"),
    ],
)
def test_flat_row_errors(header: list[str], cells: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        body_from_flat_row(header, cells)


def test_format_option_overrides_detection(
    cli: Invoke, database: Database, tmp_path: Path
) -> None:
    make_account(cli)
    path = tmp_path / "orders.csv"  # named .csv, holds NDJSON
    path.write_text(json.dumps(body(1)) + "\n")
    ok(cli("import", str(path), "--cm-id", "1000298", "--format", "ndjson"))
    assert erp_ids(database) == {"ERP-1"}
