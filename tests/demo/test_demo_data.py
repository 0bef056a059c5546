"""The demo's data files (trace_service/demo/data/): they load into what the README promises,
hold no secret, and give the same mix of certificates and certified chains on any day."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace_service.auth.models import User
from trace_service.certificates.models import Certificate, Evaluation
from trace_service.certificates.rules import Status, status_on, valid_until
from trace_service.demo.chains import crop_year, moment
from trace_service.demo.files import DATA_DIR, read_csv, read_toml
from trace_service.demo.loader import FIRST_DAY, load_demo
from trace_service.demo.ocop_plan import Round, plan_rounds
from trace_service.registry.enums import ProducerKind
from trace_service.registry.models import Listing, Producer, Product, RawMaterialArea
from trace_service.trace.models import Lot

TODAY = date(2026, 11, 28)
README = Path(__file__).resolve().parents[2] / "README.md"
WINDOW = 90


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _promised() -> tuple[int, int]:
    """The numbers of producers and products the README's Run section promises."""
    found = re.search(r"\((\d+) producers, (\d+) products,", README.read_text(encoding="utf-8"))
    assert found, "README.md no longer says how many producers and products the demo has"
    return int(found[1]), int(found[2])


def test_the_data_files_load_into_the_counts_the_readme_promises(db_session):
    report = load_demo(db_session, today=TODAY)
    producers, products = _promised()
    assert (report.producers, report.products) == (producers, products) == (80, 100)
    assert _count(db_session, Producer) == 80 and _count(db_session, Product) == 100
    kinds = Counter(db_session.scalars(select(Producer.kind)))
    assert kinds == {
        ProducerKind.COOPERATIVE: 27,
        ProducerKind.ENTERPRISE: 22,
        ProducerKind.HOUSEHOLD: 31,
    }
    assert len(set(db_session.scalars(select(Listing.product_id)))) == 70
    areas = list(db_session.scalars(select(RawMaterialArea)))
    assert report.areas == len(areas) == 149
    shapes = Counter(a.geometry["type"] for a in areas)
    assert shapes == {"Point": 50, "Polygon": 99}
    for area in areas:
        ring = area.geometry["coordinates"]
        points = [ring] if area.geometry["type"] == "Point" else ring[0]
        assert all(107.2 <= lon <= 108.1 and 11.75 <= lat <= 12.85 for lon, lat in points)
        assert (area.geometry["type"] == "Point") == (area.area_ha <= 4)

    # The accounts of "First requests", producer1…3 bound to producers of the demo's chains
    # (review finding 8: bound to three producers without any, they saw empty pages).
    accounts = {u.username: u for u in db_session.scalars(select(User))}
    assert set(accounts) == {"admin", "inspector", "producer1", "producer2", "producer3"}
    packing = {
        lot.product.producer_id
        for lot in db_session.scalars(select(Lot))
        if lot.product_id is not None
    }
    assert all(accounts[f"producer{n}"].producer_id in packing for n in (1, 2, 3))
    assert {accounts["admin"].role, accounts["inspector"].role} == {"admin", "inspector"}
    assert [u[0] for u in report.users] == [
        "admin",
        "inspector",
        *(f"producer{n}" for n in (1, 2, 3)),
    ]

    # OCOP 2021–2025 as ocop.csv says it stands on the day of loading; five chains.
    certs = list(db_session.scalars(select(Certificate)))
    assert report.evaluations == _count(db_session, Evaluation) == 106
    assert report.certificates == len(certs) == 102
    assert all(date(2021, 1, 1) <= c.issue_date <= date(2025, 12, 31) for c in certs)
    expected = Counter(r["on_loading_day"] for r in read_csv("ocop.csv") if r["on_loading_day"])
    statuses = Counter(
        status_on(
            TODAY,
            issue_date=c.issue_date,
            valid_until=c.valid_until,
            revoked_on=c.revoked_on,
            superseded_on=c.superseded_on,
            expiring_window_days=WINDOW,
        ).value
        for c in certs
    )
    assert (
        statuses
        == expected
        == {
            "valid": 64,
            "expiring": 7,
            "expired": 12,
            "revoked": 1,
            "superseded": 18,
        }
    )
    packed = list(db_session.scalars(select(Lot).where(Lot.product_id.is_not(None))))
    assert len(packed) == len(read_toml("chains.toml")["chain"]) == 5


SECRET_WORDS = re.compile(
    r"password|passwd|passphrase|mật khẩu|secret|token|api.?key|private.?key|BEGIN .*KEY"
    r"|\$argon2|ocop_",
    re.IGNORECASE,
)
ALPHANUMERIC_RUN = re.compile(r"[A-Za-z0-9]{8,}")


def _looks_random(run: str) -> bool:
    """Upper case, lower case and digits in one run: what a drawn password or key is like."""
    return all(re.search(kind, run) for kind in ("[A-Z]", "[a-z]", "[0-9]"))


def test_no_password_or_secret_is_in_the_data_files(db_session):
    report = load_demo(db_session, today=TODAY)
    passwords = [password for _, _, password in report.users]
    assert len(passwords) == 5
    files = sorted(DATA_DIR.iterdir())
    assert {f.suffix for f in files} == {".csv", ".geojson", ".toml", ".md"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not [p for p in passwords if p in text], path.name
        assert not [r for r in ALPHANUMERIC_RUN.findall(text) if _looks_random(r)], path.name
        if path.suffix != ".md":  # the README may say that there are none
            assert not SECRET_WORDS.search(text), (path.name, SECRET_WORDS.search(text))
    header = (DATA_DIR / "accounts.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "username,role,producer,display_name"


def _statuses(rounds: list[Round], day: date) -> list[tuple[Round, Status]]:
    """Each certificate's status on ``day``; a later one of its product supersedes it."""
    certified = sorted((r for r in rounds if r.issue_date), key=lambda r: r.issue_date)
    result = []
    for n, r in enumerate(certified):
        assert r.issue_date is not None
        later = [x.issue_date for x in certified[n + 1 :] if x.product == r.product]
        status = status_on(
            day,
            issue_date=r.issue_date,
            valid_until=valid_until(r.issue_date),
            revoked_on=r.revoked_on,
            superseded_on=later[0] if later else None,
            expiring_window_days=WINDOW,
        )
        result.append((r, status))
    return result


def _certified_on(rounds: list[Round], product: str, day: date) -> bool:
    return any(
        r.product == product
        and r.issue_date is not None
        and r.issue_date <= day <= valid_until(r.issue_date)
        and (r.revoked_on is None or r.revoked_on > day)
        for r in rounds
    )


@pytest.mark.parametrize("day", [TODAY, date(2027, 3, 1), date(2029, 7, 4)])
def test_each_certificate_has_the_status_ocop_csv_gives_it_on_the_day_of_loading(day):
    monday = day - timedelta(days=day.weekday())
    rows = read_csv("ocop.csv")
    for r, status in _statuses(plan_rounds(day), day):
        # The product's row nearest in date: a round may have moved by a few weeks.
        offset = (r.evaluated_on - monday).days
        row = min(
            (row for row in rows if row["product"] == r.product),
            key=lambda row: abs(int(row["evaluated"]) - offset),
        )
        assert row["on_loading_day"] == status.value, (day, row)


def test_any_day_of_loading_finds_the_mix_and_certified_chains():
    """Every fifth day over five years: the same mix of statuses (give or take the rounds
    that move out of the weeks no council sat in 2025), nothing dated after the day, and each
    chain's product certified on its packing day."""
    chains = read_toml("chains.toml")["chain"]
    day = FIRST_DAY
    while day < date(2032, 1, 1):
        rounds = plan_rounds(day)
        assert len(rounds) == 106 and max(d for r in rounds for d in r.dates) <= day
        counts = Counter(status for _, status in _statuses(rounds, day))
        assert counts[Status.REVOKED] == 1 and counts[Status.SUPERSEDED] == 18, (day, counts)
        assert counts[Status.EXPIRED] == 12 and 5 <= counts[Status.EXPIRING] <= 10, (day, counts)
        first_year = crop_year(day)
        for chain in chains:
            times = [moment(step["at"], first_year) for step in chain["step"]]
            assert times == sorted(times) and times[-1].date() < day
            packing = next(s for s in chain["step"] if s["step"] == "packing")
            packed_on = moment(packing["at"], first_year).date()
            assert _certified_on(rounds, chain["product"], packed_on), (day, chain["product"])
        day += timedelta(days=5)


def test_a_day_before_the_data_is_refused_and_loads_nothing(db_session):
    with pytest.raises(ValueError, match="2026-11-01"):
        load_demo(db_session, today=FIRST_DAY - timedelta(days=1))
    assert _count(db_session, Producer) == 0
