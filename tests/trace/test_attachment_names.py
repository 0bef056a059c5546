"""Attachment downloads (issue 10, finding 7): the content was sniffed from its bytes, but a
``%PDF-`` file uploaded as ``report.pdf.hta`` downloaded as ``.hta``, which Windows runs."""

from __future__ import annotations

import io
from email.message import Message
from urllib.parse import unquote

import pytest

from tests import factories
from tests.conftest import make_account
from trace_service.principal import Role
from trace_service.trace.files import content_disposition, download_name

P = "/api/v1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


@pytest.fixture
def harvest(client, db_session):
    producer = factories.ProducerFactory()
    account = make_account(db_session, Role.PRODUCER, producer.id)
    response = client.post(
        f"{P}/trace/harvests",
        headers=account.headers,
        json={
            "area_id": factories.AreaFactory(producer=producer).id,
            "harvest_start": "2025-11-01",
            "harvest_end": "2025-11-02",
            "event_time": "2025-11-03T08:00:00+07:00",
            "lot": {"code": "ATT-1", "material": "Quả cà phê", "quantity": 10, "unit": "kg"},
        },
    )
    assert response.status_code == 201
    return account, response.json["id"]


def _disposition(header: str) -> tuple[str, str, str]:
    """(kind, plain filename, filename* decoded) as a mail or HTTP client parses them."""
    message = Message()
    message["Content-Disposition"] = header
    plain = message.get_param("filename", header="Content-Disposition")
    star = header.split("filename*=", 1)[1]
    charset, _, encoded = star.split("'", 2)
    assert charset == "UTF-8"
    return message.get_content_disposition(), plain, unquote(encoded, encoding="utf-8")


@pytest.mark.parametrize(
    "content, uploaded, downloaded, plain",
    [
        (PDF, "report.pdf.hta", "report.pdf.hta.pdf", "report.pdf.hta.pdf"),
        (PDF, "report.exe", "report.exe.pdf", "report.exe.pdf"),
        (PDF, "báo cáo", "báo cáo.pdf", "bao cao.pdf"),
        (PNG, "ảnh.jpg", "ảnh.jpg.png", "anh.jpg.png"),
        (JPEG, "Ảnh đồi Đắk Mil.JPEG", "Ảnh đồi Đắk Mil.JPEG", "Anh doi Dak Mil.JPEG"),
        (PDF, "Biên bản kiểm tra.PDF", "Biên bản kiểm tra.PDF", "Bien ban kiem tra.PDF"),
        (PDF, "a;b, c=d.pdf", "a;b, c=d.pdf", "a_b_ c_d.pdf"),
        (PDF, "\u202egpj.pdf", "gpj.pdf", "gpj.pdf"),  # a right-to-left override is dropped
    ],
)
def test_a_download_ends_with_the_extension_of_its_sniffed_type(
    client, harvest, content, uploaded, downloaded, plain
):
    account, event_id = harvest
    added = client.post(
        f"{P}/trace/events/{event_id}/attachments",
        headers=account.headers,
        data={"file": (io.BytesIO(content), uploaded)},
    )
    assert added.status_code == 201, added.json
    assert added.json["filename"] == downloaded
    file = client.get(added.json["url"], headers=account.headers)
    assert file.status_code == 200 and file.data == content
    header = file.headers["Content-Disposition"]
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert _disposition(header) == ("attachment", plain, downloaded)
    listed = client.get(f"{P}/lots?code=ATT-1", headers=account.headers).json["items"][0]
    trace = client.get(f"{P}/lots/{listed['id']}/trace", headers=account.headers).json
    assert [a["filename"] for a in trace["events"][0]["attachments"]] == [downloaded]


def test_names_stored_before_the_change_download_safely_too():
    # the name is made at download time, so rows uploaded earlier are covered
    assert download_name("report.pdf.hta", "application/pdf") == "report.pdf.hta.pdf"
    assert download_name("", "image/png") == "attachment.png"
    assert download_name("x.jpe", "image/jpeg") == "x.jpe"


def test_no_name_can_break_the_header():
    name = download_name('a"b\\c/d\r\nSet-Cookie: x=1', "application/pdf")
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert _disposition(header) == ("attachment", "abcdSet-Cookie_ x_1.pdf", name)


def test_the_fallback_name_is_plain_ascii_and_never_empty():
    header = content_disposition("Đắk Nông – kết quả.pdf")
    assert header.isascii()
    assert 'filename="Dak Nong _ ket qua.pdf"' in header
    assert content_disposition("ảnh")  # diacritics only: still a name
    assert 'filename="_"' in content_disposition("漢")
