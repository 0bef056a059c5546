"""Our label URLs behave as a GS1-conformant resolver: a linkset for applications, redirects
by link type, a description at /.well-known/gs1resolver, public product and lot pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from tests import factories
from tests.labels.conftest import P
from trace_service.labels import serials

GS1 = "https://gs1.org/voc/"
LINKSET = "application/linkset+json"


def _label(client, packed):
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    listed = client.get(f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers)
    return listed.json["items"][0]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _links(linkset: dict, rel: str) -> list[dict]:
    return linkset["linkset"][0].get(GS1 + rel, [])


def test_link_type_all_answers_an_rfc_9264_linkset_for_the_label(client, packed):
    label = _label(client, packed)
    answer = client.get(_path(label["url"]) + "&linkType=all")
    assert answer.status_code == 200 and answer.mimetype == LINKSET
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    linkset = answer.json
    entry = linkset["linkset"][0]
    # The anchor is the GS1 Digital Link of the item, which an independent parser reads back.
    link = GS1DigitalLinkURI.parse(entry["anchor"])
    values = {e.ai.ai: e.value for e in link.as_gs1_message().element_strings}
    assert values["10"] == "DM2601-RB1" and values["21"] == label["serial"]
    assert entry["itemDescription"] == "Cà phê bột Robusta Đắk Mil – rang mộc"
    pip = _links(linkset, "pip")[0]
    assert pip["type"] == "text/html" and "vi" in pip["hreflang"]
    assert urlsplit(pip["href"]).query == urlsplit(label["url"]).query  # the signed page
    assert {t["language"] for t in pip["title*"]} == {"vi", "en"}
    for rel in ("defaultLink", "certificationInfo", "traceability", "epcis"):
        assert len(_links(linkset, rel)) == 1, rel
    assert _links(linkset, "epcis")[0]["type"] == "application/ld+json"


def test_an_application_asking_for_a_linkset_by_accept_gets_one_and_a_browser_the_page(
    client, packed
):
    label = _label(client, packed)
    path = _path(label["url"])
    by_accept = client.get(path, headers={"Accept": LINKSET})
    assert by_accept.status_code == 200 and by_accept.mimetype == LINKSET
    browser = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 200 and browser.mimetype == "text/html"
    assert 'rel="linkset"' in browser.headers["Link"]  # the page names its linkset
    assert "Accept" in browser.headers["Vary"]
    asked_pip = client.get(path + "&linkType=gs1:pip")
    assert asked_pip.mimetype == "text/html"


def test_other_link_types_redirect_or_list_what_there_is(client, packed):
    label = _label(client, packed)
    path = _path(label["url"])
    gtin = urlsplit(label["url"]).path.split("/")[2]
    chain = client.get(path + "&linkType=gs1:traceability")
    assert chain.status_code == 307
    assert urlsplit(chain.headers["Location"]).path == f"/01/{gtin}/10/DM2601-RB1"
    by_iri = client.get(path + f"&linkType={GS1}certificationInfo")
    assert by_iri.status_code == 307 and by_iri.headers["Location"].endswith("#chung-nhan")
    missing = client.get(path + "&linkType=gs1:recipeInfo", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert "gs1:pip" in missing.json["errors"]["linkTypes"]


def test_an_unknown_serial_or_a_serial_under_another_gtin_resolves_to_nothing(client, packed):
    label = _label(client, packed)
    gtin = urlsplit(label["url"]).path.split("/")[2]
    unknown = f"/01/{gtin}/10/DM2601-RB1/21/{serials.new_serial()}?linkType=all"
    assert client.get(unknown).status_code == 404
    other = factories.ProductFactory().gtin14
    moved = f"/01/{other}/10/DM2601-RB1/21/{label['serial']}?linkType=all"
    assert client.get(moved).status_code == 404
    bad_check = f"/01/{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}?linkType=all"
    assert client.get(bad_check).status_code == 400


def test_the_gtin_alone_opens_the_products_public_page_with_its_certificate(client, packed):
    label = _label(client, packed)
    gtin = urlsplit(label["url"]).path.split("/")[2]
    page = client.get(f"/01/{gtin}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Cà phê bột Robusta Đắk Mil – rang mộc" in html
    assert packed.certificate.number in html and 'id="chung-nhan"' in html
    assert packed.certificate.valid_until.strftime("%d/%m/%Y") in html
    linkset = client.get(f"/01/{gtin}?linkType=all").json
    assert _links(linkset, "pip")[0]["href"].endswith(f"/01/{gtin}")
    assert client.get(f"/01/{factories.ProductFactory().gtin14}").status_code == 404


def test_the_lots_public_chain_shows_places_and_steps_but_no_quantities(client, packed):
    label = _label(client, packed)
    gtin = urlsplit(label["url"]).path.split("/")[2]
    page = client.get(f"/01/{gtin}/10/DM2601-RB1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Vườn cà phê Thuận An 1" in html and "Thu hoạch" in html and "Đóng gói" in html
    assert "06/01/2026" in html  # the packing day
    assert "2000" not in html and "2.000" not in html  # how many bags is the producer's
    assert client.get(f"/01/{gtin}/10/NO-SUCH-LOT").status_code == 404
    # Where the goods went after packing is the producer's business (reviewer's finding 8).
    shipped = client.post(
        f"{P}/trace/observations",
        headers=packed.account.headers,
        json={
            "kind": "shipping",
            "event_time": "2026-01-08T08:00:00+07:00",
            "lots": [{"lot_id": packed.bags}],
            "location": "Kho của khách hàng Siêu thị ABC",
        },
    )
    assert shipped.status_code == 201, shipped.json
    html = client.get(f"/01/{gtin}/10/DM2601-RB1").get_data(as_text=True)
    assert "Siêu thị ABC" not in html and "Vận chuyển" not in html and "Đóng gói" in html


def test_the_resolver_describes_itself_at_the_well_known_address(client):
    answer = client.get("/.well-known/gs1resolver")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.json
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"] == [{"namespace": GS1, "prefix": "gs1:"}]
    assert "gs1:traceability" in body["activeLinkTypes"]["en"]
    assert body["resolverRoot"].startswith("http")


def test_head_and_a_cors_preflight_are_answered_as_gs1_asks(client, packed):
    label = _label(client, packed)
    path = _path(label["url"])
    head = client.head(path + "&linkType=all")
    assert head.status_code == 200 and head.mimetype == LINKSET and head.data == b""
    preflight = client.options(path, headers={"Origin": "https://app.example"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_hostile_paths_get_a_clean_answer_and_no_forged_header(client, packed):
    # The reviewer's findings 4 and 5: a CR/LF or NUL in the path was a 500, a '>' forged the
    # Link header, and a product id beyond 64 bits overflowed the database's integer.
    gtin = packed.product.gtin14
    for path in (
        f"/01/{gtin}/10/a%0d%0aX-Evil:%201/21/84T3K19JFG5N0CH",
        f"/01/{gtin}/10/a%00b/21/84T3K19JFG5N0CH",
        f"/01/{gtin}/10/a%3E%3B%20rel%3D%22x/21/84T3K19JFG5N0CH",
        "/P/99999999999999999999999",
        "/P/9223372036854775808",
        "/P/99999999999999999999999/10/x",
        "/P/0",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "X-Evil" not in response.headers
        for link in response.headers.getlist("Link"):
            assert "\r" not in link and "\n" not in link and "\x00" not in link
            assert link.count(">;") == 1 and 'rel="x' not in link
