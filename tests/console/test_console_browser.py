"""The console end to end: a real `ordersearch serve` over a small SQLite demo, driven in
headless Chromium (Debian's /usr/bin/chromium through Playwright; Playwright's own browser
downloads are never used).

Without /usr/bin/chromium (or the playwright package) the test is skipped, and with CI=true
it fails instead: `make test` installs the Debian package.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordersearch.api.routes import PULL_PATH
from ordersearch.demo import DEMO_CM_ID, DEMO_CUSTOMER_ID, DEMO_PASSWORD, DEMO_USERNAME
from ordersearch.search.render import VIEW_FIELDS
from tests.live import ORDERSEARCH, ROOT, running_server, server_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEMO_ORDERS = 300
TIMEOUT_MS = 30_000


@pytest.fixture
def browser_ready() -> None:
    """Skips (fails with CI=true) unless chromium and playwright are both there."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed (pip install -e '.[test]')")
    if not missing:
        return
    reason = "browser test needs " + "; ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true")
    pytest.skip(reason)


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """`ordersearch demo --orders 300` into a fresh SQLite file, then `ordersearch serve`
    on a free port until /healthz answers; the base URL."""
    env = server_env(f"sqlite:///{tmp_path / 'console.db'}")
    loaded = subprocess.run(
        [str(ORDERSEARCH), "demo", "--orders", str(DEMO_ORDERS)], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    with running_server(env["ORDERSEARCH_DATABASE_URL"], tmp_path / "server.log") as server:
        yield server.url


def _customer_orders(url: str) -> list[dict[str, Any]]:
    """The seed customer's orders as the API gives them, by orderId."""
    answer = httpx.post(
        url + PULL_PATH, auth=(DEMO_USERNAME, DEMO_PASSWORD), timeout=30,
        json={"cmId": DEMO_CM_ID, "customerIds": DEMO_CUSTOMER_ID, "viewId": 2,
              "sortParam": "orderId asc", "limit": 500},
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["orders"])


def test_sign_in_search_sort_page_detail_download_and_chart(
    browser_ready: None, demo_server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    expected = _customer_orders(demo_server)
    ids = [order["orderId"] for order in expected]
    assert len(ids) >= 3  # enough for two pages of two
    page_size = 2
    view2_columns = [key for key, _ in VIEW_FIELDS[2]]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                          accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))

            # Not signed in: the console sends us to the sign-in page; a wrong password
            # is shown there.
            page.goto(f"{demo_server}/console")
            page.wait_for_url("**/console/sign-in")
            page.fill("#username", DEMO_USERNAME)
            page.fill("#password", "not-the-password")
            page.click("#sign-in-form button[type=submit]")
            expect(page.locator("#sign-in-error")).to_contain_text("Wrong username or password")
            page.fill("#password", DEMO_PASSWORD)
            page.click("#sign-in-form button[type=submit]")
            page.wait_for_url("**/console")
            expect(page.locator("#account-cmid")).to_have_text(f"cmId {DEMO_CM_ID}")

            # Search by customer id, two per page.
            page.fill("input[name=customerIds]", str(DEMO_CUSTOMER_ID))
            page.fill("#limit", str(page_size))
            page.click("#search-button")
            rows = page.locator("#results-table tbody tr[data-order-id]")
            expect(rows).to_have_count(page_size)
            expect(page.locator("#summary")).to_have_text(
                f"Orders 1\u2013{page_size} of {len(ids)}")
            headers = page.locator("#results-table thead th")
            assert headers.all_inner_texts() == view2_columns

            # Sort by a header: orderId, ascending on the first click.
            page.click("#results-table th[data-column=orderId] button")
            expect(page.locator("#results-table th[data-column=orderId]")).to_have_attribute(
                "aria-sort", "ascending")
            expect(rows.first).to_have_attribute("data-order-id", str(ids[0]))
            assert _row_ids(rows) == ids[:page_size]

            # Next page by cursor, and back.
            page.click("#next-page")
            expect(page.locator("#summary")).to_have_text(
                f"Orders {page_size + 1}\u2013{min(2 * page_size, len(ids))} of {len(ids)}")
            assert _row_ids(rows) == ids[page_size:2 * page_size]
            page.click("#prev-page")
            expect(rows.first).to_have_attribute("data-order-id", str(ids[0]))

            # The chart: one bar segment per month and status, adding up to the total.
            bars = page.locator("#chart svg rect.bar")
            expect(bars.first).to_be_visible()
            counts = [int(bar.get_attribute("data-count") or 0) for bar in bars.all()]
            assert sum(counts) == len(ids)
            page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

            # The detail panel: view 3 of the order, with its customer and items.
            first = expected[0]
            page.click(f"#results-table tbody tr[data-order-id='{first['orderId']}']")
            detail = page.locator("#detail")
            expect(detail).to_be_visible()
            expect(page.locator("#detail-title")).to_have_text(f"Order {first['orderId']}")
            items = page.locator("#detail [data-section=items] tbody tr")
            expect(items.first).to_be_visible()
            assert items.count() >= 1
            expect(page.locator("#detail [data-section=customer]")).to_contain_text(
                str(first["customerName"]))
            page.screenshot(path=str(tmp_path / "console-detail.png"))
            page.click("#detail-close")
            expect(detail).to_be_hidden()

            # CSV of the whole result (not just the page) through the export endpoint.
            with page.expect_download() as download_info:
                page.click("#download-csv")
            download = download_info.value
            assert download.suggested_filename.endswith(".csv")
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            table = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
            assert table[0] == view2_columns
            assert sorted(int(row[0]) for row in table[1:]) == ids

            # An API error is shown in the page, with the field that caused it.
            page.fill("input[name=customerIds]", "1x5")
            page.click("#search-button")
            error = page.locator("#messages .alert-error")
            expect(error).to_contain_text("customerIds")
            expect(error).to_contain_text("'1x5' is not an integer")
            expect(page.locator("input[name=customerIds]")).to_have_class("invalid")

            assert page_errors == []
        finally:
            browser.close()

    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "console.png", results / "console.png")


def _row_ids(rows: Any) -> list[int]:
    return [int(row.get_attribute("data-order-id")) for row in rows.all()]
