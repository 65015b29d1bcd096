"""docs/pull-orders.md names every body key and every sort field the code accepts.

A key or sort field added to the code without a word in the user documentation fails here.
Keys must appear in backticks (`customerIds`), as the docs write every key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ordersearch.search.filters import CONTROL_KEYS, FILTERS
from ordersearch.search.sorting import SORT_FIELDS

PULL_DOCS = Path(__file__).resolve().parents[1] / "docs" / "pull-orders.md"

BODY_KEYS = sorted({key for spec in FILTERS for key in spec.body_keys} | set(CONTROL_KEYS))


@pytest.fixture(scope="module")
def pull_docs() -> str:
    return PULL_DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", BODY_KEYS)
def test_every_body_key_is_documented(pull_docs: str, key: str) -> None:
    assert f"`{key}`" in pull_docs, f"docs/pull-orders.md does not mention `{key}`"


@pytest.mark.parametrize("field", sorted(SORT_FIELDS))
def test_every_sort_field_is_documented(pull_docs: str, field: str) -> None:
    assert f"`{field}`" in pull_docs, f"docs/pull-orders.md does not mention sort field `{field}`"
