"""A product's photo from the producer's pages: shown, replaced or removed through the
registry's photo service (which checks, draws again and audits it). The upload is decoded
before the database's write lock is taken, as the API's route does (``writes_late``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from trace_service.db import begin_write, get_session, writes_late
from trace_service.errors import DomainError
from trace_service.portal.access import page_roles
from trace_service.portal.forms import show_refusal
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.forms import PhotoDeleteForm, PhotoForm
from trace_service.principal import Role, current_principal
from trace_service.registry import photos
from trace_service.registry.services import get_product
from trace_service.web.i18n import t


def _upload(product_id: int, form: PhotoForm) -> bool:
    """Keep the uploaded photo; False when refused (the reason beside the field)."""
    try:
        # One byte past the cap is enough to refuse it: never read a larger file whole.
        cap = photos.max_photo_bytes()
        drawn = photos.draw_photo(form.photo.data.stream.read(cap + 1), cap)
        session = get_session()
        begin_write(session)  # only now: SQLite's write lock is the whole database's
        photos.set_photo(session, current_principal(), product_id, drawn)
    except DomainError as refused:
        show_refusal(form, refused, fallback="photo")
        return False
    return True


def _delete(product_id: int, form: PhotoDeleteForm) -> str | None:
    """What to say once the photo is removed; None when refused (said on the form)."""
    try:
        session = get_session()
        begin_write(session)
        photos.delete_photo(session, current_principal(), product_id)
    except DomainError as refused:
        show_refusal(form, refused)
        return None
    return t("Đã xóa ảnh sản phẩm.", "The product's photo is removed.")


@producer.route("/san-pham/<id:product_id>/anh", methods=["GET", "POST"])
@writes_late
@page_roles(Role.PRODUCER)
def product_photo_page(product_id: int) -> str | WResponse:
    session, actor = get_session(), current_principal()
    product = get_product(session, actor, product_id)  # 404 for another producer's
    form, remove = PhotoForm(prefix="photo"), PhotoDeleteForm(prefix="remove")
    here = url_for(".product_photo_page", product_id=product.id)
    done: str | None = None
    if "photo-submit" in request.form and form.validate_on_submit() and _upload(product.id, form):
        done = t("Đã lưu ảnh sản phẩm.", "The product's photo is saved.")
    elif "remove-submit" in request.form and remove.validate_on_submit():
        done = _delete(product.id, remove)
    if done:
        flash(done)
        return redirect(here)
    current = photos.photo_ref(session, product.id)
    return render_template(
        "portal/producer/photo.html", product=product, form=form, remove=remove, current=current
    )
