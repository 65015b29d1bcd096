"""The console's pages and its one JSON endpoint, without a browser (both backends)."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from ordersearch.api.console import form_groups, form_keys
from ordersearch.search.filters import FILTERS, Kind
from ordersearch.search.render import VIEW_FIELDS
from ordersearch.search.sorting import SORT_FIELDS
from tests.conftest import Tenant, basic_auth

ME = "/console/api/me"


def test_the_form_has_every_filter_of_the_filters_table(client: TestClient) -> None:
    answer = client.get("/console")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    for key in form_keys():
        assert f'data-filter="{key}"' in html, key
    for spec in FILTERS:
        if spec.kind is Kind.DATE_RANGE:
            assert f'<input type="date" id="f-{spec.start_key}" name="{spec.start_key}"' in html
            assert f'<input type="date" id="f-{spec.end_key}" name="{spec.end_key}"' in html
    assert 'data-map="additionalFields"' in html
    for name in SORT_FIELDS:
        assert f'<option value="{name}"' in html
    # Every filter lands in exactly one group, and none in the catch-all "Other".
    grouped = [field.key for group in form_groups() for field in group.fields]
    assert sorted(grouped) == sorted(spec.key for spec in FILTERS)
    titles = [group.title for group in form_groups()]
    assert titles == ["Customer", "Order", "Dates", "Enquiry / lead", "Employees & inventory",
                      "Custom attributes", "Additional fields"]


def test_the_page_carries_the_views_columns_and_its_assets_are_served(
    client: TestClient,
) -> None:
    html = client.get("/console").text
    config = re.search(r'<script type="application/json" id="console-config">(.*?)</script>',
                       html, re.S)
    assert config is not None
    views = json.loads(config.group(1))["views"]
    assert views == {str(view): [key for key, _ in fields] for view, fields in VIEW_FIELDS.items()}
    assert client.get("/console/sign-in").status_code == 200
    script = client.get("/console/static/console.js")
    assert script.status_code == 200 and "sessionStorage" in script.text
    assert client.get("/console/static/console.css").status_code == 200
    assert client.get("/console/static/app.py").status_code == 404
    assert client.get("/console/static/..%2Fconsole.py").status_code == 404


def test_me_answers_the_account_of_a_valid_user_and_401_otherwise(
    client: TestClient, tenant: Tenant
) -> None:
    account = tenant.account
    users = ((tenant.write_headers, "demo-writer", "write"),
             (tenant.read_headers, "demo-reader", "read"))
    for headers, username, role in users:
        answer = client.get(ME, headers=headers)
        assert answer.status_code == 200
        assert answer.json() == {
            "cmId": account.cm_id, "name": account.name, "subdomain": account.subdomain,
            "timezone": account.timezone, "username": username, "role": role,
        }
    for headers in ({}, basic_auth("demo-writer", "wrong"), basic_auth("nobody", "x"),
                    {"Authorization": "Bearer abc"}):
        answer = client.get(ME, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"status": "failed", "message": "Invalid Auth Key"}
        assert answer.headers["www-authenticate"] == 'Basic realm="ordersearch"'
