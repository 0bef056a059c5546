"""What happens to the demo's stamps once they are out (review finding 8: the demo accounts
saw "Chưa có…" on every page): views of some of producer1's stamps, one stamp viewed from
too many phones and so flagged, a shopper's report on it, and an inspector's passed check
of another. Each is made through the service that makes it in use; made once, with the
demo's print runs (``cli demo load``), and the same each time: the same stamps, clients,
texts, at the same hours before the load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.auth.models import User
from trace_service.auth.services import principal_of
from trace_service.labels import serials
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.scans import CopyRule, Seen, client_hash, record_scan
from trace_service.reports.services import ReportForm, submit_report
from trace_service.verify.inspections import record_inspection

# (stamp's number in the run, phones that viewed it): the flagged one is added by the rule.
VIEWS = ((1, 1), (2, 2), (3, 1), (4, 3))
FLAGGED = 5
INSPECTED = 1


@dataclass
class Activity:
    scans: int = 0
    flagged: int = 0
    reports: int = 0
    inspections: int = 0


def _view(session: Session, label: Label, phone: int, rule: CopyRule, at: datetime) -> None:
    seen = Seen(client_hash("demo", f"demo-phone-{phone}", at), "phone", "scan")
    session.refresh(label)  # its state as the last view left it
    record_scan(session, label, seen, rule, at)


def record_activity(
    session: Session, owner: str, rule: CopyRule, now: datetime, photo_cap: int
) -> Activity:
    """Views, a flag, a report and an inspection on the first run of ``owner``'s producer
    (a demo account's username); nothing when it has no run of 5 stamps or more."""
    user = session.scalar(select(User).where(User.username == owner))
    run = session.scalar(
        select(PrintRun)
        .where(PrintRun.producer_id == (user.producer_id if user else None))
        .order_by(PrintRun.id)
        .limit(1)
    )
    if run is None or run.quantity < FLAGGED:
        return Activity()
    labels = {
        label.seq: label
        for label in session.scalars(
            select(Label).where(Label.run_id == run.id, Label.seq <= FLAGGED)
        )
    }
    done = Activity()
    start = now - timedelta(hours=6)
    for seq, phones in VIEWS:
        for phone in range(phones):
            _view(session, labels[seq], phone, rule, start + timedelta(minutes=seq * 7 + phone))
            done.scans += 1
    # One stamp seen on more phones than the rule allows within its window: flagged.
    copied = labels[FLAGGED]
    for phone in range(rule.max_clients + 1):
        _view(session, copied, 100 + phone, rule, start + timedelta(hours=1, minutes=phone))
        done.scans += 1
    session.refresh(copied)
    state = copied.state
    done.flagged = int(state is not None and state.flagged_at is not None)
    form = ReportForm(
        code=serials.grouped(copied.serial),
        verdict="possibly_copied",
        problem="fake",
        details="Tem quét ra cảnh báo nghi bị sao chép; bao bì in mờ hơn gói mua ở cửa hàng OCOP.",
        place="Chợ Gia Nghĩa, quầy số 12",
    )
    submit_report(session, form, photo_cap)
    done.reports = 1
    done.inspections = _inspect(session, labels[INSPECTED], now, f"demo-inspection-{owner}")
    session.flush()
    return done


def _inspect(session: Session, label: Label, now: datetime, client_id: str) -> int:
    inspector = session.scalar(select(User).where(User.username == "inspector"))
    if inspector is None:
        return 0
    data = {
        "client_id": client_id,
        "result": "passed",
        "serial": label.serial,
        "checked_at": now - timedelta(hours=3),
        "place": "Cửa hàng giới thiệu sản phẩm OCOP tỉnh, Gia Nghĩa",
        "verdict": "genuine",
        "notes": "Tem và bao bì khớp với hồ sơ; hàng còn hạn.",
    }
    record_inspection(session, principal_of(inspector), data)
    return 1
