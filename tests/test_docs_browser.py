"""The API documentation page works in a real browser with no internet."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import chromium, live_server
from trace_service import create_app
from trace_service.migrate import upgrade

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'docs.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    with live_server(app) as base:
        yield base


def test_the_docs_page_renders_every_operation_without_the_internet(served):
    outside: list[str] = []
    with chromium() as browser:
        page = browser.new_page()

        def only_this_server(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{served}/api/v1/docs")
        page.wait_for_selector(".opblock-summary", timeout=15_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        title = page.locator(".info .title").inner_text()
        page.close()
    assert outside == [], "the docs page reached outside the service"
    assert errors == []
    assert "OCOP trace service" in title
    paths = {text.replace("\u200b", "") for text in operations}
    assert {"/api/v1/products", "/api/v1/producers/{producer_id}", "/api/v1/areas"} <= paths
    assert len(operations) >= 29
