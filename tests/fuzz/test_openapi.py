"""The OpenAPI document itself: served without credentials, complete, examples valid.

What the fuzz tests take as their input is checked here for what they cannot see: that
every body key the server reads is described, that every answer code is listed, and that
the published examples are valid against the schemas they illustrate.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from ordersearch.api.app import create_app
from ordersearch.api.openapi import (
    ADD_UPDATE_EXAMPLE,
    LOWER_EXTRAS,
    SECURITY_SCHEME,
    SEED_PULL_EXAMPLE,
)
from ordersearch.config import Settings
from ordersearch.ingest.parse import CONTACT, CUSTOMER, ENQUIRY, ITEM, ORDER, TOP_LEVEL
from ordersearch.search.filters import KNOWN_KEYS
from tests.conftest import ADD_UPDATE, PULL

EXPORT = "/ms/customer-search/order-search/api/v1/export"
ERROR_CODES = {"400", "401", "403", "405", "413", "429", "500"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document as GET /openapi.json serves it, without credentials."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'openapi.db'}"
    app = create_app(Settings(database_url=url, base_domain=None))
    with TestClient(app) as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200, response.text
        docs = client.get("/docs")
        assert docs.status_code == 200 and "/openapi.json" in docs.text
        app.state.database.dispose()
        document: dict[str, Any] = response.json()
        return document


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(
        {"$schema": "https://json-schema.org/draft/2020-12/schema",
         "components": document["components"], **schema}
    )


def operation(document: dict[str, Any], path: str) -> dict[str, Any]:
    post: dict[str, Any] = document["paths"][path]["post"]
    return post


def test_three_operations_behind_basic_auth(served: dict[str, Any]) -> None:
    assert set(served["paths"]) == {PULL, EXPORT, ADD_UPDATE}
    assert served["components"]["securitySchemes"][SECURITY_SCHEME] == {
        "type": "http", "scheme": "basic",
        "description": served["components"]["securitySchemes"][SECURITY_SCHEME]["description"],
    }
    for path in served["paths"]:
        assert operation(served, path)["security"] == [{SECURITY_SCHEME: []}]


@pytest.mark.parametrize(
    ("path", "codes"),
    [(PULL, ERROR_CODES), (EXPORT, ERROR_CODES), (ADD_UPDATE, ERROR_CODES | {"404"})],
)
def test_every_answer_code_is_described(
    served: dict[str, Any], path: str, codes: set[str]
) -> None:
    responses = operation(served, path)["responses"]
    assert set(responses) == {"200"} | codes
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "Allow" in responses["405"]["headers"]


def test_every_pull_key_is_described(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    assert set(KNOWN_KEYS) <= set(schemas["PullBody"]["properties"])
    assert set(schemas["ExportBody"]["properties"]) == {*schemas["PullBody"]["properties"],
                                                        "format"}
    assert schemas["PullBody"]["required"] == ["cmId"]


def test_every_add_update_key_is_described(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    assert set(schemas["AddUpdateElement"]["properties"]) == set(TOP_LEVEL)
    for name, section in [("AddUpdateCustomer", CUSTOMER), ("AddUpdateContact", CONTACT),
                          ("AddUpdateEnquiry", ENQUIRY), ("AddUpdateOrder", ORDER),
                          ("AddUpdateProduct", ITEM)]:
        assert set(schemas[name]["properties"]) == set(section.known), name


def test_examples_are_valid(served: dict[str, Any]) -> None:
    pull = operation(served, PULL)["requestBody"]["content"]["application/json"]
    assert pull["examples"]["published"]["value"] == SEED_PULL_EXAMPLE
    for example in pull["examples"].values():
        validator(served, pull["schema"]).validate(example["value"])
    add = operation(served, ADD_UPDATE)["requestBody"]["content"]["application/json"]
    assert add["examples"]["one"]["value"] == ADD_UPDATE_EXAMPLE
    for example in add["examples"].values():
        validator(served, add["schema"]).validate(example["value"])
    export = operation(served, EXPORT)["requestBody"]["content"]["application/json"]
    validator(served, export["schema"]).validate(export["example"])


def test_the_seed_example_lists_the_published_keys() -> None:
    seed = Path(__file__).resolve().parents[3] / "shared" / "seed" / "pull-order-api.txt"
    if not seed.exists():
        pytest.skip(f"no {seed}")
    published = seed.read_text(encoding="utf-8")
    for key in SEED_PULL_EXAMPLE:
        assert f'"{key}":' in published, key


def test_lower_extras_are_every_non_ascii_letter_that_lowers_to_ascii() -> None:
    found: dict[str, str] = {}
    for code in range(128, sys.maxunicode + 1):
        lowered = chr(code).lower()
        if len(lowered) == 1 and lowered.isascii() and lowered.isalpha():
            found[lowered] = found.get(lowered, "") + chr(code)
    assert found == LOWER_EXTRAS
