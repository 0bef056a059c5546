"""A new producer's first steps (new-user review, findings 6-8): the packing form says to
record a harvest first when there is no raw-material lot; spoiled stamps voided by their
printed codes with a confirm step; the product's photo uploaded from the portal."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from tests import factories
from tests.portal.conftest import BROWSER, PASSWORD, csrf_of, make_certified, sign_in
from tests.portal.test_producer_printing import packed_order_page, place_order
from trace_service.audit.models import AuditEvent
from trace_service.auth.passwords import hash_password
from trace_service.clock import today_vn
from trace_service.labels.models import Label, LabelState, PrintRun
from trace_service.labels.serials import grouped, new_serial
from trace_service.principal import Role
from trace_service.registry.photos import ProductPhoto


def new_producer(db_session):
    """A certified product and nothing else: no area, no harvest."""
    producer = factories.ProducerFactory(name="Hộ kinh doanh Mới")
    user = factories.UserFactory(
        role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
    )
    product = factories.ProductFactory(producer=producer, name_vi="Mật ong hoa cà phê")
    factories.CertificateFactory(product=product, issue_date=today_vn() - timedelta(days=10))
    return user, product


def test_without_an_input_lot_the_packing_form_sends_to_the_harvest_form(client, db_session):
    user, product = new_producer(db_session)
    sign_in(client, user.username)
    pages = {
        f"/chu-the/san-pham/{product.id}/dat-in-tem": f"/chu-the/thu-hoach?san-pham={product.id}",
        "/chu-the/dong-goi": "/chu-the/thu-hoach",  # no product chosen: no way back to carry
    }
    for url, harvest in pages.items():
        html = client.get(url, headers=BROWSER).get_data(as_text=True)
        assert "Chưa có lô nguyên liệu còn hàng: hãy ghi nhận thu hoạch trước" in html
        assert f'href="{harvest}"' in html
        assert "packing-submit" not in html  # no dead form
    order = client.get(f"/chu-the/san-pham/{product.id}/dat-in-tem", headers=BROWSER)
    html = order.get_data(as_text=True)
    assert "Bước đầu: ghi nhận thu hoạch" in html  # the page's first notice says so too
    assert "Hãy ghi nhận đóng gói trước" not in html


def test_with_an_input_lot_the_packing_form_is_shown(client, certified):
    sign_in(client, certified.user.username)
    html = client.get("/chu-the/dong-goi", headers=BROWSER).get_data(as_text=True)
    assert "packing-submit" in html and "Chưa có lô nguyên liệu" not in html


def ordered_run(client, certified, db_session):
    """A run of 100 stamps for the signed-in producer, with its void page's URL."""
    html = packed_order_page(client, certified)
    run_url = place_order(client, certified, html).headers["Location"]
    run = db_session.scalars(select(PrintRun).order_by(PrintRun.id.desc())).first()
    assert run and str(run.id) in run_url
    return run, f"/chu-the/dot-in/{run.id}/huy-tem"


def serials_of(db_session, run) -> dict[int, str]:
    rows = db_session.execute(select(Label.seq, Label.serial).where(Label.run_id == run.id))
    return {seq: serial for seq, serial in rows}


def voided_seqs(db_session, run) -> list[int]:
    return list(
        db_session.scalars(
            select(Label.seq)
            .join(LabelState, LabelState.label_id == Label.id)
            .where(Label.run_id == run.id, LabelState.voided_at.is_not(None))
            .order_by(Label.seq)
        )
    )


def as_typed(serial: str) -> str:
    """How a person might type it: lower case, spaces, an O for a 0 where there is one."""
    spaced = f"{serial[:5]} {serial[5:10]} {serial[10:]}".lower()
    return spaced.replace("0", "o")


def test_stamps_are_voided_by_their_printed_codes_after_a_confirm_step(
    client, certified, db_session
):
    run, url = ordered_run(client, certified, db_session)
    serials = serials_of(db_session, run)
    with_zero = next((seq for seq, s in serials.items() if "0" in s and seq != 3), 7)
    form = client.get(url, headers=BROWSER).get_data(as_text=True)
    typed = f"{as_typed(serials[with_zero])}, {grouped(serials[3]).lower()}, 20-21"
    post = {"csrf_token": csrf_of(form), "void-reason": "kẹt giấy", "void-sequences": typed}

    preview = client.post(url, data=post, headers=BROWSER).get_data(as_text=True)
    assert "Kiểm tra trước khi hủy" in preview and "4 tem" in preview
    for seq in (3, with_zero, 20, 21):
        assert grouped(serials[seq]) in preview
    assert 'name="void-confirmed" value="1"' in preview
    assert voided_seqs(db_session, run) == []  # nothing voided before the confirm

    changed = client.post(url, data={**post, "void-edit": "1"}, headers=BROWSER)
    assert f'value="{typed}"' in changed.get_data(as_text=True)  # back, as typed
    assert voided_seqs(db_session, run) == []

    done = client.post(url, data={**post, "void-confirmed": "1"}, headers=BROWSER)
    html = done.get_data(as_text=True)
    assert "Đã hủy 4 tem" in html and 'id="voided-codes"' in html
    for seq in (3, with_zero, 20, 21):
        assert grouped(serials[seq]) in html
    assert voided_seqs(db_session, run) == sorted({3, with_zero, 20, 21})


def test_a_code_not_of_this_run_is_refused_by_name_beside_the_field(client, certified, db_session):
    run, url = ordered_run(client, certified, db_session)
    serials = set(serials_of(db_session, run).values())
    stranger = next(s for s in iter(new_serial, None) if s not in serials)
    form = client.get(url, headers=BROWSER).get_data(as_text=True)
    typed = f"{next(iter(serials))}, {stranger}"
    post = {"csrf_token": csrf_of(form), "void-reason": "mất", "void-sequences": typed}
    for extra in ({}, {"void-confirmed": "1"}):
        refused = client.post(url, data={**post, **extra}, headers=BROWSER)
        html = refused.get_data(as_text=True)
        message = f'id="void-sequences-error">Mã {grouped(stranger)} không thuộc đợt in này'
        assert message in html and f'value="{typed}"' in html
    assert voided_seqs(db_session, run) == []
    bad = client.post(url, data={**post, "void-sequences": "FR1KA-DVC54"}, headers=BROWSER)
    assert 'id="void-sequences-error">Không đọc được “FR1KA-DVC54”' in bad.get_data(True)


def jpeg(colour: tuple[int, int, int] = (30, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, "JPEG")
    return out.getvalue()


def upload(client, url: str, data: bytes, name: str = "anh.jpg"):
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    fields = {"csrf_token": csrf_of(page), "photo-submit": "1"}
    fields["photo-photo"] = (io.BytesIO(data), name)
    return client.post(url, data=fields, headers=BROWSER, content_type="multipart/form-data")


def test_a_product_photo_is_uploaded_replaced_and_removed_from_the_portal(
    client, certified, db_session
):
    sign_in(client, certified.user.username)
    product_id = certified.product.id
    home = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    url = f"/chu-the/san-pham/{product_id}/anh"
    assert f'href="{url}"' in home
    assert "Sản phẩm này chưa có ảnh." in client.get(url, headers=BROWSER).get_data(True)

    saved = upload(client, url, jpeg())
    assert saved.status_code == 302
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    first = db_session.get(ProductPhoto, product_id)
    assert "Đã lưu ảnh sản phẩm." in page and first is not None
    assert f'src="/anh/san-pham/{product_id}-{first.sha256[:16]}-nho.jpg"' in page
    assert client.get(f"/anh/san-pham/{product_id}-{first.sha256[:16]}-nho.jpg").status_code == 200

    old = first.sha256
    assert upload(client, url, jpeg((200, 10, 10))).status_code == 302
    db_session.expire_all()
    assert db_session.get(ProductPhoto, product_id).sha256 != old

    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    removed = client.post(
        url, data={"csrf_token": csrf_of(page), "remove-submit": "1"}, headers=BROWSER
    )
    assert removed.status_code == 302
    db_session.expire_all()
    assert db_session.get(ProductPhoto, product_id) is None
    actions = db_session.scalars(
        select(AuditEvent.tag).where(
            AuditEvent.object_type == "product", AuditEvent.object_id == str(product_id)
        )
    ).all()
    assert sum("photo" in tag for tag in actions) == 3  # set, set, deleted


def test_a_refused_photo_is_explained_beside_the_field_in_vietnamese(client, certified, db_session):
    sign_in(client, certified.user.username)
    url = f"/chu-the/san-pham/{certified.product.id}/anh"
    refused = upload(client, url, b"<html>not a photo</html>" * 10, "anh.jpg")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="photo-photo-error">Chỉ nhận ảnh JPEG, PNG hoặc WebP' in html
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    empty = client.post(
        url, data={"csrf_token": csrf_of(page), "photo-submit": "1"}, headers=BROWSER
    )
    assert 'id="photo-photo-error">Hãy chọn một tệp ảnh.' in empty.get_data(as_text=True)
    forged = client.post(
        url,
        data={"photo-submit": "1", "photo-photo": (io.BytesIO(jpeg()), "a.jpg")},
        headers=BROWSER,
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400 and db_session.get(ProductPhoto, certified.product.id) is None


def test_the_photo_is_drawn_before_the_write_begins(client, certified, monkeypatch):
    from trace_service.portal.producer import photos as page

    steps: list[str] = []
    draw, begin = page.photos.draw_photo, page.begin_write
    monkeypatch.setattr(page.photos, "draw_photo", lambda *a: steps.append("draw") or draw(*a))
    monkeypatch.setattr(page, "begin_write", lambda s: steps.append("write") or begin(s))
    view = client.application.view_functions["producer.product_photo_page"]
    assert getattr(view, "writes_late", False)
    sign_in(client, certified.user.username)
    assert (
        upload(client, f"/chu-the/san-pham/{certified.product.id}/anh", jpeg()).status_code == 302
    )
    assert steps == ["draw", "write"]


def test_another_producers_product_photo_page_is_404(client, certified, db_session):
    stranger = make_certified(db_session, "Hộ kinh doanh Khác")
    sign_in(client, certified.user.username)
    url = f"/chu-the/san-pham/{stranger.product.id}/anh"
    assert client.get(url, headers=BROWSER).status_code == 404
