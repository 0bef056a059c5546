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
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        response = page.goto(f"{served}/api/v1/docs")
        page.wait_for_selector(".opblock-summary", timeout=15_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        title = page.locator(".info .title").inner_text()
        page.close()
    assert outside == [], "the docs page reached outside the service"
    assert errors == []
    # Swagger UI starts from a file we serve: the page runs under a script-src without
    # 'unsafe-inline', and nothing it does is refused by it.
    assert response is not None
    assert "'unsafe-inline'" not in _directive(response.headers["content-security-policy"])
    assert [m for m in console if "Content Security Policy" in m] == []
    assert [m for m in console if m.startswith("error")] == []
    assert "OCOP trace service" in title
    paths = {text.replace("\u200b", "") for text in operations}
    assert {"/api/v1/products", "/api/v1/producers/{producer_id}", "/api/v1/areas"} <= paths
    assert len(operations) >= 29


def _directive(policy: str, name: str = "script-src") -> str:
    return next(p.strip() for p in policy.split(";") if p.strip().startswith(name + " "))


def test_an_inline_script_under_our_policy_is_refused_and_reported(served):
    """The check above can fail: the console reports what the policy refuses."""
    from trace_service import CONTENT_SECURITY_POLICY

    with chromium() as browser:
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.route(
            f"{served}/probe",
            lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
                body="<!doctype html><p>probe</p><script>console.log('inline ran')</script>",
            ),
        )
        page.goto(f"{served}/probe")
        page.wait_for_load_state("load")
        page.close()
    assert "log: inline ran" not in console
    assert any("Content Security Policy" in m for m in console), console
