"""The front door: someone without a camera types the printed code and lands on the label's
own page, checked as if scanned."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.labels.conftest import P
from trace_service.labels import serials


def _labels(client, packed, quantity):
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity},
    ).json
    listed = client.get(
        f"{P}/print-runs/{run['id']}/labels?page_size=100", headers=packed.account.headers
    )
    return listed.json["items"]


def _as_a_person_types(serial: str) -> str:
    """Lower case, spaces between groups, O for 0 and l for 1: as read off a stamp."""
    typed = serials.grouped(serial).replace("-", " ").lower()
    return typed.replace("0", "O").replace("1", "l")


def test_the_front_door_asks_for_the_printed_code_in_vietnamese_first(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kiểm tra tem OCOP" in html and 'name="ma"' in html
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Check an OCOP stamp" in english
    # Producers and officers arrive here too: the way to sign in is on the page.
    assert '<a href="/dang-nhap">Đăng nhập</a>' in html and ">Sign in</a>" in english


def test_a_code_typed_in_lower_case_with_o_for_zero_opens_the_signed_page(client, packed):
    labels = _labels(client, packed, 30)
    label = next(item for item in labels if "0" in item["serial"])  # ~1 in 3 has one
    typed = _as_a_person_types(label["serial"])
    assert "0" not in typed and typed != label["serial"]
    answer = client.get("/", query_string={"ma": typed})
    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    printed = urlsplit(label["url"])
    assert target.path == printed.path  # the label's own URL, rebuilt from what was issued
    query = parse_qs(target.query)
    assert query["S"] == parse_qs(printed.query)["S"] and query["src"] == ["typed"]
    page = client.get(f"{target.path}?{target.query}")
    assert page.status_code == 200
    assert serials.grouped(label["serial"]) in page.get_data(as_text=True)


def test_a_wrong_check_character_finds_nothing_and_says_how_to_fix_it(client, packed):
    label = _labels(client, packed, 1)[0]
    serial = label["serial"]
    wrong = serial[:-1] + next(ch for ch in serials.ALPHABET if ch != serial[-1])
    answer = client.get("/", query_string={"ma": wrong})
    assert answer.status_code == 200 and "Location" not in answer.headers
    html = answer.get_data(as_text=True)
    assert "Mã chưa đúng" in html and f'value="{wrong}"' in html  # what was typed stays


def test_an_unknown_code_says_so_calmly_and_offers_to_report(client, packed):
    never_issued = serials.new_serial()
    answer = client.get("/", query_string={"ma": serials.grouped(never_issued)})
    assert answer.status_code == 200 and "Location" not in answer.headers
    html = answer.get_data(as_text=True)
    assert "Không tìm thấy tem có mã này" in html
    assert serials.grouped(never_issued) in html


def test_what_was_typed_is_shown_escaped(client):
    answer = client.get("/", query_string={"ma": '<script>alert("x")</script>'})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<script>alert" not in html


def test_one_client_typing_codes_in_bulk_is_slowed_down(client):
    for _ in range(30):
        assert client.get("/", query_string={"ma": "AAAAA-AAAAA-AAAAA"}).status_code == 200
    refused = client.get("/", query_string={"ma": "AAAAA-AAAAA-AAAAA"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert client.get("/").status_code == 200  # the empty form is never refused


def test_a_short_a_long_and_a_wrongly_lettered_code_each_say_what_to_fix(client):
    short = client.get("/", query_string={"ma": "7k3m9 qxa2b"}).get_data(as_text=True)
    assert "Mã còn thiếu ký tự" in short and "Bạn đã gõ 10 ký tự" in short
    assert "Mã chưa đúng" not in short and "Không tìm thấy tem có mã này" not in short
    long = client.get("/", query_string={"ma": serials.new_serial() + "7"}).get_data(as_text=True)
    assert "Mã dài hơn 15 ký tự" in long and "Bạn đã gõ 16 ký tự" in long
    lettered = client.get("/", query_string={"ma": "7K3M9-QXA2B-CDEU#"}).get_data(as_text=True)
    assert "Mã có ký tự không in trên tem" in lettered
    assert '<span class="code">U#</span>' in lettered
    serial = serials.new_serial()
    typo = serial[:-1] + next(ch for ch in serials.ALPHABET if ch != serial[-1])
    wrong = client.get("/", query_string={"ma": typo}).get_data(as_text=True)
    assert "có một ký tự bị gõ nhầm" in wrong and "không phải tem giả" in wrong
    for html in (short, long, lettered, wrong):
        assert 'action="/bao-cao"' not in html  # a typo is no reason to report a fake


def test_the_example_code_on_the_front_door_is_itself_well_formed(client):
    """Review user15, finding 9: the hint's example was refused as a typo when typed."""
    hint = re.search(r'id="ma-hint">(.*?)</p>', client.get("/").get_data(as_text=True), re.S)
    assert hint
    example = re.search(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}\b", hint.group(1))
    assert example and serials.normalise_typed(example.group(0)) is not None, example
    answer = client.get("/", query_string={"ma": example.group(0)}).get_data(as_text=True)
    assert "Không tìm thấy tem có mã này" in answer  # well formed, just never issued
    assert "Mã chưa đúng" not in answer


def test_a_code_typed_with_en_or_em_dashes_opens_the_signed_page(client, packed):
    """Review user15, finding 10: a phone's smart punctuation turns hyphens into dashes."""
    label = _labels(client, packed, 1)[0]
    grouped = serials.grouped(label["serial"])
    for dash in ("\u2013", "\u2014", "\u2212", "\u2011", "\uff0d"):
        typed = f"  {grouped.replace('-', dash).lower()} "
        answer = client.get("/", query_string={"ma": typed})
        assert answer.status_code == 303, (dash, answer.get_data(as_text=True)[:200])
        assert urlsplit(answer.headers["Location"]).path == urlsplit(label["url"]).path
    short = client.get("/", query_string={"ma": grouped[:11].replace("-", "\u2013")})
    assert "Bạn đã gõ 10 ký tự" in short.get_data(as_text=True)  # a dash is no character
