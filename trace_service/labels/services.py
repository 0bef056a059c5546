"""Print runs: ordering OCOP stamps for a lot of a certified product.

Ordering issues every label at once, in one transaction: a serial unique across the database
and an Ed25519 signature each. Drawing the files (``build.py``) comes after and may fail and
be resumed; it never makes new serials. Runs and labels are found for an actor through the
scoping layer (``auth/scoping.py``): another producer's answer as if they did not exist.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trace_service.api import API_PREFIX
from trace_service.audit.services import record_event
from trace_service.auth.scoping import check_owned, get_owned, scoped
from trace_service.certificates.models import Certificate
from trace_service.certificates.services import may_label
from trace_service.clock import today_vn, vn_date
from trace_service.db import utcnow
from trace_service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
    field_error,
    raise_all,
)
from trace_service.labels import payload, serials
from trace_service.labels.models import MAX_RUN_LABELS, Label, PrintRun, RunStatus, stamps_ordered
from trace_service.labels.print_settings import check_qr_fits, layout_problems, offset_of
from trace_service.labels.qrbatch import fit_version
from trace_service.labels.render.stocks import DEFAULT_STOCK
from trace_service.labels.tags import LabelTag
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.signing.keystore import KeyStore, Signer
from trace_service.signing.service import scratch_secret
from trace_service.trace.models import EventLot, Lot, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.services import Trace, backward_trace, recalled_by
from trace_service.trace.units import UNIT_VI
from trace_service.web.formatting import vn_number

# Labels are signed and inserted in slices, so a 100,000-label order never holds every row
# at once (a slice is a few MB). Large enough that signing it over threads pays
# (keystore.sign_all): at 500, waking the other core for each slice cost what it saved.
_SLICE = 5000


@dataclass(frozen=True)
class RunOrder:
    product_id: int
    lot_id: int
    quantity: int
    scratch: bool = False
    certificate_id: int | None = None  # when given, must be the certificate in force
    idempotency_key: str | None = None
    stock: str = DEFAULT_STOCK  # the sticker sheet (label_templates), see print_settings
    start_position: int = 1  # the first free position on the first sheet

    def digest(self) -> str:
        """What a retried request must repeat exactly to get the same run back."""
        body: dict[str, object] = {
            "product_id": self.product_id,
            "lot_id": self.lot_id,
            "quantity": self.quantity,
            "scratch": self.scratch,
            "certificate_id": self.certificate_id,
        }
        if (self.stock, self.start_position) != (DEFAULT_STOCK, 1):  # older digests unchanged
            body |= {"stock": self.stock, "start_position": self.start_position}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# A run ordered this recently for the same lot may be the one a person is ordering again by
# mistake (Back, then "Đặt in tem" once more): the portal asks before making its twin.
RECENT_ORDER = timedelta(minutes=15)


def recent_run(
    session: Session, actor: Principal, product_id: int, lot_id: int | None = None
) -> PrintRun | None:
    """The actor's own newest run of the product (of one lot, if given) ordered within
    ``RECENT_ORDER``, or None: a run someone else ordered (a colleague, the demo's setup)
    is not one this person may be about to order twice."""
    since = utcnow() - RECENT_ORDER
    args = {"product_id": product_id, "lot_id": lot_id}
    query = run_query(actor, args).where(
        PrintRun.created_at >= since, PrintRun.created_by == actor.user_id
    )
    return session.scalar(query.limit(1))


def _label_base(base_url: str) -> str:
    try:
        return payload.canonical_base(base_url)
    except ValueError as exc:
        raise Unavailable(
            "Địa chỉ in trên tem (OCOP_LABEL_BASE_URL) chưa hợp lệ; liên hệ quản trị hệ thống.",
            f"The label base URL (OCOP_LABEL_BASE_URL) is unusable: {exc}.",
        ) from None


def _not_found_product() -> NotFound:
    return NotFound("Không tìm thấy sản phẩm.", "No product has this id.")


def _owned_product(session: Session, actor: Principal, product_id: int) -> Product:
    if not (actor.is_admin or actor.is_producer):
        raise Forbidden(
            "Chỉ chủ thể sản xuất hoặc văn phòng OCOP được đặt in tem.",
            "Only producers and the OCOP office may order labels.",
        )
    return get_owned(session, actor, Product, product_id, _not_found_product)


# -- finding runs and labels ----------------------------------------------------------------


def _not_found_run() -> NotFound:
    return NotFound("Không tìm thấy đợt in.", "No print run has this id.")


def _not_found_label() -> NotFound:
    return NotFound("Không có tem nào mang mã này.", "No label has this code.")


def get_run(session: Session, actor: Principal, run_id: int) -> PrintRun:
    return get_owned(session, actor, PrintRun, run_id, _not_found_run)


def run_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    """Print runs, newest first, narrowed by product, lot or status."""
    stmt = scoped(select(PrintRun).order_by(PrintRun.id.desc()), actor, PrintRun)
    for name in ("product_id", "lot_id", "status"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(PrintRun, name) == args[name])
    return stmt


def run_labels_query(session: Session, actor: Principal, run_id: int) -> Select[Any]:
    """The run's labels in sheet order."""
    run = get_run(session, actor, run_id)
    return select(Label).where(Label.run_id == run.id).order_by(Label.seq)


def get_label(session: Session, actor: Principal, code: str) -> Label:
    """A label by its code as printed or typed ("7k3m9-qxa2b-cdef4" works)."""
    serial = serials.normalise_typed(code)
    label = session.scalar(select(Label).where(Label.serial == serial)) if serial else None
    return check_owned(actor, label, _not_found_label)


def label_trace(session: Session, actor: Principal, code: str) -> Trace:
    """Everything behind one label: its packed lot's every event, lot and area."""
    return backward_trace(session, get_label(session, actor, code).run.lot)


def _replayed(session: Session, producer_id: int, order: RunOrder) -> PrintRun | None:
    if order.idempotency_key is None:
        return None
    run = session.scalar(
        select(PrintRun).where(
            PrintRun.producer_id == producer_id,
            PrintRun.idempotency_key == order.idempotency_key,
        )
    )
    if run is not None and run.request_digest != order.digest():
        raise Conflict(
            "Khóa Idempotency-Key này đã dùng cho một đơn in khác.",
            "This Idempotency-Key was used for a different order; use a new key.",
        )
    return run


def _packing_event(session: Session, lot: Lot) -> TraceEvent | None:
    return session.scalar(
        select(TraceEvent)
        .join(EventLot, EventLot.event_id == TraceEvent.id)
        .where(
            EventLot.lot_id == lot.id,
            EventLot.role == "output",
            TraceEvent.kind == EventKind.PACKING,
        )
    )


# How long an order waits for another order of the same lot (which holds the lot while it
# signs and inserts its stamps: some seconds for 100,000) before it answers "retry".
LOT_LOCK_SECONDS = 10


def _check_lot(session: Session, product: Product, lot_id: int) -> tuple[Lot, TraceEvent]:
    # Locked (PostgreSQL; SQLite writers are serialised anyway) so two orders at once cannot
    # both take the lot's last units; a wait past LOT_LOCK_SECONDS answers 503 "locked"
    # (errors.LOCKED), not a database that seems down.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOT_LOCK_SECONDS}s'"))
    lot = session.get(Lot, lot_id, with_for_update=True)
    if lot is None or lot.producer_id != product.producer_id:
        raise field_error(
            "lot_id", vi="Không tìm thấy lô hàng.", en="No lot of this producer has this id."
        )
    if lot.product_id != product.id:
        raise field_error(
            "lot_id",
            vi=f"Lô {lot.code} không phải là lô của sản phẩm {product.name_vi}.",
            en=f"Lot {lot.code} is not a lot of product {product.name_vi}.",
        )
    packing = _packing_event(session, lot)
    if packing is None:
        raise field_error(
            "lot_id",
            vi=f"Lô {lot.code} chưa được ghi nhận đóng gói; tem chỉ dán trên sản phẩm đã đóng gói.",
            en=f"Lot {lot.code} was not made by a packing event; labels go on packed units.",
        )
    if not payload.LOT_RE.fullmatch(lot.code):
        raise field_error(
            "lot_id",
            vi=f"Mã lô {lot.code!r} không in lên tem được: tối đa 20 chữ cái, chữ số, '.', '_' "
            "hoặc '-'.",
            en=f"Lot code {lot.code!r} cannot go on a label: at most 20 letters, digits, "
            "'.', '_' or '-' (GS1 batch/lot).",
        )
    recalls = recalled_by(session, lot)
    if recalls:
        raise Conflict(
            f"Lô {lot.code} đang bị thu hồi ({recalls[0].reason}); không in tem.",
            f"Lot {lot.code} is recalled ({recalls[0].reason}); no labels are printed for it.",
        )
    return lot, packing


def _quantity_problem(quantity: int) -> InvalidInput | None:
    if 1 <= quantity <= MAX_RUN_LABELS:
        return None
    return field_error(
        "quantity",
        vi=f"Mỗi đợt in có từ 1 đến {vn_number(MAX_RUN_LABELS)} tem.",
        en=f"A print run has 1 to {MAX_RUN_LABELS:,} labels.",
    )


def order_problems(
    session: Session,
    product: Product,
    lot_id: int | None,
    quantity: int | None,
    stock: str,
    start_position: int | None,
    scratch: bool = False,
) -> list[InvalidInput]:
    """Every field's problem of an order that shows before any label is issued, all at once
    (a field of None, unread, is not checked): the layout, the lot, the quantity. A refusal
    that is no field's (a recalled lot) is raised."""
    problems = layout_problems(stock, start_position, scratch)
    lot = None
    if lot_id is not None:
        try:
            lot, _ = _check_lot(session, product, lot_id)
        except InvalidInput as problem:
            problems.append(problem)
    if quantity is not None:
        wrong = _quantity_problem(quantity)
        if wrong is None and lot is not None:
            try:
                _check_quantity(session, lot, quantity)
            except InvalidInput as problem:
                wrong = problem
        problems += [wrong] if wrong is not None else []
    return problems


def _check_quantity(session: Session, lot: Lot, quantity: int) -> None:
    wrong = _quantity_problem(quantity)
    if wrong is not None:
        raise wrong
    units = lot.units
    if units is None:
        raise field_error(
            "lot_id",
            vi=f"Lô {lot.code} tính bằng {UNIT_VI[lot.unit]}, chưa khai số đơn vị: hãy khai lô có "
            f"bao nhiêu gói, chai… (unit_count, PATCH {API_PREFIX}/lots/{lot.id}) rồi đặt in "
            "tem, mỗi đơn vị một tem.",
            en=f"Lot {lot.code} is counted in {lot.unit}, not in units: declare how many units "
            f"(bags, bottles…) it holds first, with PATCH {API_PREFIX}/lots/{lot.id} "
            '{"unit_count": N}; then stamps can be ordered, one per unit.',
        )
    # One stamp per packed unit: a lot of 400 bags takes at most 400 stamps in all runs.
    already = stamps_ordered(session, lot.id)
    if already + quantity > units:
        left = max(units - already, 0)
        raise field_error(
            "quantity",
            vi=f"Lô {lot.code} có {vn_number(units)} đơn vị, đã đặt {vn_number(already)} tem "
            f"(không kể tem đã hủy); chỉ đặt thêm tối đa {vn_number(left)} tem.",
            en=f"Lot {lot.code} has {units} units and {already} labels were ordered "
            f"already (voided ones not counted); at most {left} more.",
        )


class CertificateRefused(Conflict):
    """No label without a certificate in force: ``certificate_expired``, ``…_revoked``…"""

    def __init__(self, reason: str, message: str, message_en: str) -> None:
        super().__init__(message, message_en)
        self.code = f"certificate_{reason}"


def _label_certificate(
    session: Session, product: Product, certificate_id: int | None
) -> Certificate:
    """The certificate the labels will carry: the one in force today (the certificate
    module decides); a ``certificate_id`` the order names must be that one."""
    today = today_vn()
    verdict = may_label(session, product.id, today)
    named = session.get(Certificate, certificate_id) if certificate_id is not None else None
    if certificate_id is not None and (named is None or named.product_id != product.id):
        raise field_error(
            "certificate_id",
            vi="Sản phẩm không có giấy chứng nhận này.",
            en="This product has no certificate with this id.",
        )
    if named is not None and named.superseded_by is not None and named.superseded_on:
        raise CertificateRefused(
            "superseded",
            f"Giấy chứng nhận số {named.number} đã được thay thế bởi giấy chứng nhận số "
            f"{named.superseded_by.number} ngày {vn_date(named.superseded_on)}.",
            f"Certificate {named.number} was superseded by {named.superseded_by.number} "
            f"on {named.superseded_on.isoformat()}.",
        )
    if not verdict.allowed or verdict.certificate is None:
        raise CertificateRefused(verdict.code, verdict.message, verdict.message_en)
    if named is not None and named.id != verdict.certificate.id:
        raise CertificateRefused(
            "not_in_force",
            f"Giấy chứng nhận số {named.number} không phải giấy chứng nhận đang có hiệu lực "
            f"(số {verdict.certificate.number}).",
            f"Certificate {named.number} is not the one in force ({verdict.certificate.number}).",
        )
    return verdict.certificate


def _new_run(
    product: Product,
    lot: Lot,
    packing: TraceEvent,
    certificate: Certificate,
    order: RunOrder,
    kid: str,
    base: str,
    actor: Principal,
) -> PrintRun:
    """The run as ordered: what every label of it will sign is kept on the run."""
    return PrintRun(
        producer_id=product.producer_id,
        product_id=product.id,
        lot_id=lot.id,
        packing_event_id=packing.id,
        certificate_id=certificate.id,
        star=certificate.star,
        valid_until=certificate.valid_until,
        gtin=product.gtin14,
        lot_code=lot.code,
        quantity=order.quantity,
        kid=kid,
        base_url=base,
        payload_version=payload.PAYLOAD_VERSION,
        qr_version=0,
        scratch=order.scratch,
        stock=order.stock,
        start_position=order.start_position,
        idempotency_key=order.idempotency_key,
        request_digest=order.digest(),
        status=RunStatus.QUEUED,
        created_by=actor.user_id,
    )


def _save_run(session: Session, run: PrintRun, order: RunOrder) -> PrintRun | None:
    """Insert the run; None if the same Idempotency-Key was sent twice at once and the other
    request made it (its run is then returned)."""
    try:
        with session.begin_nested():  # a savepoint: losing a race must not end the request
            session.add(run)
            session.flush()
    except IntegrityError:
        replayed = _replayed(session, run.producer_id, order)
        if replayed is None:
            raise
        return replayed
    return None


def order_print_run(
    session: Session,
    actor: Principal,
    order: RunOrder,
    store: KeyStore,
    base_url: str,
) -> tuple[PrintRun, bool]:
    """Issue a print run: checks, then every label's serial and signature. Returns the run
    and whether it is new (False: the same Idempotency-Key and order came before)."""
    product = _owned_product(session, actor, order.product_id)
    replayed = _replayed(session, product.producer_id, order)
    if replayed is not None:
        return replayed, False
    raise_all(
        order_problems(
            session,
            product,
            order.lot_id,
            order.quantity,
            order.stock,
            order.start_position,
            order.scratch,
        )
    )
    lot, packing = _check_lot(session, product, order.lot_id)
    certificate = _label_certificate(session, product, order.certificate_id)
    base = _label_base(base_url)
    signer = store.signer()
    run = _new_run(product, lot, packing, certificate, order, signer.kid, base, actor)
    offset = offset_of(session, product.producer_id)  # the producer's, whoever orders
    run.offset_x_tenth_mm, run.offset_y_tenth_mm = int(offset.x_mm * 10), int(offset.y_mm * 10)
    replayed = _save_run(session, run, order)
    if replayed is not None:
        return replayed, False
    scratch_key = scratch_secret(store) if order.scratch else None
    first_url = issue_labels(session, run, range(1, order.quantity + 1), signer, scratch_key)
    run.qr_version = fit_version(first_url)
    check_qr_fits(order.stock, run.qr_version)  # refused: the caller's transaction rolls back
    details = {
        "product_id": product.id,
        "lot": lot.code,
        "quantity": order.quantity,
        "certificate": certificate.number,
        "kid": signer.kid,
        "scratch": order.scratch,
        "stock": order.stock,
        "start_position": order.start_position,
    }
    record_event(session, actor, LabelTag.RUN_ORDERED, "print_run", run.id, details)
    return run, True


class RunStatement(Protocol):
    """What a print run states on its stamps: a ``PrintRun``, or the columns a reader
    selected under its names."""

    @property
    def base_url(self) -> str: ...
    @property
    def gtin(self) -> str | None: ...
    @property
    def product_id(self) -> int: ...
    @property
    def lot_code(self) -> str: ...
    @property
    def star(self) -> int: ...
    @property
    def certificate_id(self) -> int: ...
    @property
    def valid_until(self) -> date: ...
    @property
    def kid(self) -> str: ...


def claims_for(run: RunStatement, serial: str) -> payload.LabelClaims:
    return payload.LabelClaims(
        base=run.base_url,
        serial=serial,
        gtin=run.gtin,
        product_id=None if run.gtin else run.product_id,
        lot=run.lot_code,
        star=run.star,
        certificate_id=run.certificate_id,
        valid_until=run.valid_until,
        kid=run.kid,
    )


def issue_labels(
    session: Session,
    run: PrintRun,
    seqs: Sequence[int],
    signer: Signer,
    scratch_key: bytes | None,
    serial_source: Callable[[int], list[str]] = serials.new_serials,
) -> str:
    """Give each ``seq`` of the run a fresh serial and its signature; returns one URL.

    A serial another run took meanwhile (70 random bits: in practice never) is skipped by
    the database's unique index, and that seq gets a new one, so parallel runs never share
    a serial and no order fails for it.

    Pipelined: while one slice is signed (over threads, the GIL let go), the one before is
    inserted, so signing and the Python of the insert share the cores.
    """
    example = ""
    pending = list(seqs)
    while pending:
        with signer.batches() as submit:
            signing: tuple[list[int], list[str], Callable[[], list[bytes]]] | None = None
            for start in range(0, len(pending), _SLICE):
                part = pending[start : start + _SLICE]
                drawn = serial_source(len(part))
                template = claims_for(run, drawn[0])
                signed = submit(payload.messages_for(template, drawn))
                if signing is not None:
                    _insert_slice(session, run, *signing, scratch_key)
                signing = (part, drawn, signed)
                example = example or payload.label_url(template, signed()[0])
            if signing is not None:
                _insert_slice(session, run, *signing, scratch_key)
        # Which seqs a taken serial left without a label (read in full: an IN list of
        # 100,000 would pass SQLite's limit on bound parameters).
        have = set(session.scalars(select(Label.seq).where(Label.run_id == run.id)))
        pending = [seq for seq in pending if seq not in have]
    return example


def _insert_slice(
    session: Session,
    run: PrintRun,
    seqs: list[int],
    drawn: list[str],
    signed: Callable[[], list[bytes]],
    scratch_key: bytes | None,
) -> None:
    """Insert a slice's labels; a serial another run holds is skipped (``ON CONFLICT``).

    In the driver's own terms, not Core's: a slice is plain values, and SQLAlchemy's
    processing of each row's parameters cost a 100,000-stamp order a third of a second on
    SQLite; on PostgreSQL the columns go as arrays in one statement a slice, not 5,000
    statements (1.7 s of the order's 3.9 s)."""
    hashes = [
        serials.scratch_hash(serial, serials.scratch_code(scratch_key, serial))
        if scratch_key
        else None
        for serial in drawn
    ]
    signatures = signed()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "INSERT INTO labels (run_id, seq, serial, signature, scratch_hash)"
            " SELECT %s, * FROM unnest(%s::integer[], %s::varchar[], %s::bytea[], %s::bytea[])"
            " ON CONFLICT (serial) DO NOTHING",
            (run.id, seqs, drawn, signatures, hashes),
        )
    else:
        connection.exec_driver_sql(
            "INSERT INTO labels (run_id, seq, serial, signature, scratch_hash)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING",
            [(run.id, *row) for row in zip(seqs, drawn, signatures, hashes, strict=True)],
        )
