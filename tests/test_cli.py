"""The ``flask`` commands an operator runs: schema, accounts, tokens, audit."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import select

from tests.databases import fresh_database
from trace_service import create_app
from trace_service.auth.models import User
from trace_service.auth.services import authenticate_token
from trace_service.db import get_db
from trace_service.migrate import alembic_config


def test_db_upgrade_creates_the_schema_and_reports_its_revision(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        app = create_app({"DATABASE_URL": url})
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "current"]).output.strip() == "(empty database)"
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert runner.invoke(args=["db", "current"]).output.strip() == head
        get_db(app).engine.dispose()


def test_users_create_and_token_print_a_working_token(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "thanh.tra",
            "--role",
            "inspector",
            "--password",
            "mật-khẩu-thanh-tra",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "token", "thanh.tra", "--name", "laptop"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    user = authenticate_token(db_session, token).user
    assert user.username == "thanh.tra"


def test_users_create_explains_a_refusal_and_exits_non_zero(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "htx", "--role", "producer", "--password", "mật-khẩu-đủ-dài"]
    )
    assert result.exit_code != 0
    assert "producer" in result.output
    assert db_session.scalar(select(User).where(User.username == "htx")) is None


def test_users_token_for_an_unknown_user_fails(app, db_session):
    result = app.test_cli_runner().invoke(args=["users", "token", "nobody"])
    assert result.exit_code != 0
    assert "nobody" in result.output


def test_audit_verify_reports_an_intact_chain(app, db_session):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_demo_load_fills_the_registry_once_and_saves_the_credentials(app, db_session, tmp_path):
    from sqlalchemy import func

    from trace_service.registry.models import Producer, Product, RawMaterialArea

    credentials = tmp_path / "creds.txt"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--credentials-file", str(credentials)])
    assert result.exit_code == 0, result.output
    producers = db_session.scalar(select(func.count()).select_from(Producer))
    products = db_session.scalar(select(func.count()).select_from(Product))
    assert 70 <= producers <= 90 and 90 <= products <= 110
    assert db_session.scalar(select(func.count()).select_from(RawMaterialArea)) >= producers
    lines = credentials.read_text(encoding="utf-8").splitlines()
    assert {line.split("\t")[0] for line in lines} >= {"admin", "inspector", "producer1"}
    assert credentials.stat().st_mode & 0o077 == 0
    # The demo's packed lots of certified products get a run of stamps each, drawn.
    from trace_service.labels.models import PrintRun, RunStatus

    runs = list(db_session.scalars(select(PrintRun)))
    assert runs and all(run.status is RunStatus.READY for run in runs)
    assert f"{len(runs)} runs ordered, {len(runs)} drawn" in result.output
    # producer1 and producer2 own a ready run on a lot with units left (review finding 8).
    accounts = {u.username: u.producer_id for u in db_session.scalars(select(User))}
    for name in ("producer1", "producer2"):
        own = [run for run in runs if run.producer_id == accounts[name]]
        assert own and own[0].lot.quantity > own[0].quantity, name
    views = 7 + app.config["LABEL_COPY_MAX_CLIENTS"] + 1  # one phone too many flags a stamp
    _assert_demo_activity(db_session, accounts["producer1"], views, result.output)
    again = runner.invoke(args=["demo", "load", "--credentials-file", str(credentials)])
    assert "already present" in again.output and "Printed" not in again.output
    assert db_session.scalar(select(func.count()).select_from(Producer)) == producers
    assert db_session.scalar(select(func.count()).select_from(PrintRun)) == len(runs)
    assert credentials.read_text(encoding="utf-8").splitlines() == lines  # kept as they were
    _assert_demo_activity(db_session, accounts["producer1"], views, "")  # once: no more


def _assert_demo_activity(db_session, producer_id: int, views: int, output: str) -> None:
    """producer1's views, flagged stamp, consumer report and field inspection (review
    finding 8), each audited, for two demo accounts."""
    from sqlalchemy import func

    from trace_service.audit.models import AuditEvent
    from trace_service.labels.models import Label, LabelState, PrintRun, label_scans
    from trace_service.reports.models import ConsumerReport
    from trace_service.verify.models import FieldInspection

    def count(statement) -> int:
        return db_session.scalar(select(func.count()).select_from(statement.subquery()))

    own = select(Label.id).join(PrintRun).where(PrintRun.producer_id == producer_id)
    scans = count(select(label_scans.c.label_id).where(label_scans.c.label_id.in_(own)))
    flagged = count(
        select(LabelState.label_id).where(
            LabelState.label_id.in_(own), LabelState.flagged_at.is_not(None)
        )
    )
    reports = count(select(ConsumerReport.id).where(ConsumerReport.producer_id == producer_id))
    assert (scans, flagged, reports) == (views, 1, 1)
    assert count(select(FieldInspection.id)) == 2  # producer1's and producer2's
    tags = [t for (t,) in db_session.execute(select(AuditEvent.tag))]
    assert tags.count("reports:consumer_report:submitted") == 2
    assert tags.count("verify:inspection:recorded") == 2
    if output:
        assert f"Demo activity of producer1: {views} views, 1 flagged stamp" in output


def test_a_demo_load_that_fails_midway_leaves_nothing_and_the_next_one_loads(
    app, db_session, tmp_path, monkeypatch
):
    from sqlalchemy import func

    from trace_service.labels import demo
    from trace_service.registry.models import Producer

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full while ordering the demo stamps")

    monkeypatch.setattr(demo, "demo_print_runs", broken)
    runner = app.test_cli_runner()
    failed = runner.invoke(args=["demo", "load", "--credentials-file", str(tmp_path / "c")])
    assert failed.exit_code != 0
    assert db_session.scalar(select(func.count()).select_from(Producer)) == 0
    assert not (tmp_path / "c").exists()
    monkeypatch.undo()
    loaded = runner.invoke(args=["demo", "load", "--credentials-file", str(tmp_path / "c")])
    assert loaded.exit_code == 0, loaded.output
    assert db_session.scalar(select(func.count()).select_from(Producer)) > 0
    assert (tmp_path / "c").read_text(encoding="utf-8").count("\n") == 5


def test_demo_stamps_whose_drawing_failed_are_drawn_by_the_next_load(app, db_session, monkeypatch):
    from trace_service.labels import build
    from trace_service.labels.models import PrintRun, RunStatus

    real = build.draw_files

    def failing(*_args, **_kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(build, "draw_files", failing)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    runs = list(db_session.scalars(select(PrintRun)))
    assert runs and {run.status for run in runs} == {RunStatus.FAILED}
    monkeypatch.setattr(build, "draw_files", real)
    second = runner.invoke(args=["demo", "load"])
    assert f"0 runs ordered, {len(runs)} drawn" in second.output
    db_session.expire_all()
    assert {run.status for run in db_session.scalars(select(PrintRun))} == {RunStatus.READY}


def test_lost_demo_credentials_are_replaced_with_new_passwords(app, db_session, tmp_path):
    from trace_service.auth.models import User
    from trace_service.auth.passwords import check_password

    credentials = tmp_path / "creds.txt"
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--credentials-file", str(credentials)])
    old = dict(line.split("\t")[::2] for line in credentials.read_text().splitlines())
    credentials.unlink()
    again = runner.invoke(args=["demo", "load", "--credentials-file", str(credentials)])
    assert again.exit_code == 0, again.output
    assert "new passwords" in again.output
    new = dict(line.split("\t")[::2] for line in credentials.read_text().splitlines())
    assert new.keys() == old.keys() and all(new[name] != old[name] for name in new)
    admin = db_session.scalar(select(User).where(User.username == "admin"))
    assert check_password(admin.password_hash, new["admin"])


def test_setup_makes_a_new_installation_in_one_command_and_nothing_twice(backend, tmp_path):
    """`flask setup --demo` (what scripts/run runs): schema, keys, demo and its stamps,
    today's notices; the second time it makes nothing."""
    from sqlalchemy import func

    from trace_service.db import session_scope
    from trace_service.labels.models import PrintRun
    from trace_service.registry.models import Producer

    with fresh_database(backend, tmp_path) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "KEYS_DIR": str(tmp_path / "keys"),
                "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
                "LABEL_BASE_URL": "https://tem.ocop.example.vn",
                "LABEL_FILES_DIR": str(tmp_path / "files"),
            }
        )
        runner = app.test_cli_runner()
        credentials = tmp_path / "creds.txt"
        args = ["setup", "--demo", "--credentials-file", str(credentials)]
        first = runner.invoke(args=args)
        assert first.exit_code == 0, first.output
        assert "Created key" in first.output and "Printed demo stamps" in first.output
        assert "new notices" in first.output and credentials.exists()
        with session_scope(app) as session:
            producers = session.scalar(select(func.count()).select_from(Producer))
            runs = session.scalar(select(func.count()).select_from(PrintRun))
        second = runner.invoke(args=args)
        assert second.exit_code == 0, second.output
        assert "nothing made" in second.output and "already present" in second.output
        assert "Printed demo stamps" not in second.output
        with session_scope(app) as session:
            assert session.scalar(select(func.count()).select_from(Producer)) == producers
            assert session.scalar(select(func.count()).select_from(PrintRun)) == runs
        get_db(app).engine.dispose()


def test_demo_stamps_name_an_unusable_label_address_instead_of_vanishing(app, db_session):
    """Bound to 0.0.0.0 over plain http, labels cannot be signed for that address: the demo
    says so rather than printing nothing in silence."""
    app.config["LABEL_BASE_URL"] = "http://0.0.0.0:8000"
    try:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    finally:
        app.config["LABEL_BASE_URL"] = "https://tem.ocop.example.vn"
    assert result.exit_code == 0, result.output
    assert "No demo stamps: OCOP_LABEL_BASE_URL" in result.output
    assert "https" in result.output
