"""Every response, HTML or not, carries the security headers; no script-src allows inline
scripts (issue 10, finding 8: the policy allowed them everywhere for the docs page's sake)."""

from __future__ import annotations

import re

import pytest

_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_SAMPLE = {"id": "1", "path": "swagger-ui.css", "int": "1"}


def _sample_url(rule: str) -> str:
    return _CONVERTER.sub(lambda m: _SAMPLE.get(m.group(1) or "", "X"), rule)


def _script_src(policy: str) -> str:
    directives = {p.split()[0]: p for p in (d.strip() for d in policy.split(";")) if p}
    return directives.get("script-src") or directives["default-src"]


def _checked(response) -> str:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, response.request.path
    script_src = _script_src(policy)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response.mimetype


def test_does_every_get_route_answer_with_a_policy_that_refuses_inline_scripts(app, client):
    rules = sorted(r.rule for r in app.url_map.iter_rules() if "GET" in r.methods)
    assert len(rules) > 40
    html = set()
    for rule in rules:
        for accept in ("text/html", "application/json"):
            response = client.get(_sample_url(rule), headers={"Accept": accept})
            if _checked(response) == "text/html":
                html.add(rule)
            response.close()
    # The pages a person sees among them: the docs, a label page, an error page.
    assert "/api/v1/docs" in html
    assert "/01/<gtin>/10/<lot>/21/<serial>" in html
    assert "/P/<product>/10/<lot>/21/<serial>" in html


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/no-such-page"),
        ("POST", "/healthz"),
        ("DELETE", "/api/v1/products"),
        ("POST", "/api/v1/products"),
    ],
)
def test_do_errors_carry_the_policy_too(client, method, path):
    response = client.open(path, method=method, headers={"Accept": "text/html"})
    assert response.status_code >= 400
    _checked(response)


def test_does_the_docs_page_load_its_start_up_script_from_a_file(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # Every <script> has a src: none carries code of its own.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 3
    assert all('src="' in attrs and not body.strip() for attrs, body in scripts)
    start = client.get("/static/docs/swagger-start.js")
    assert start.status_code == 200 and "SwaggerUIBundle(config)" in start.get_data(as_text=True)
    assert """data-spec-url='"/api/v1/openapi.json"'""" in html
    start.close()


@pytest.mark.parametrize(
    "header", ["If-Modified-Since", "If-Unmodified-Since", "If-Range"], ids=str.lower
)
def test_is_an_unreadable_date_in_a_condition_ignored_not_a_500(client, header):
    # werkzeug's parse_date raised OverflowError on a zone offset of twenty digits: a 500,
    # without signing in, on any file (review attack17b).
    hostile = "Mon, 01 Jan 2024 00:00:00 +9999999999999999999999"
    whole = client.get("/static/ocop.css")
    asked = client.get("/static/ocop.css", headers={header: hostile, "Range": "bytes=0-9"})
    assert asked.status_code == (200 if header == "If-Range" else 206)
    assert asked.data == (whole.data if header == "If-Range" else whole.data[:10])
    whole.close()
    asked.close()
