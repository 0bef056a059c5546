from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service import migrate
from trace_service.audit.services import verify_chain
from trace_service.auth import services as auth_services
from trace_service.auth.models import User
from trace_service.certificates.daily import run_daily, run_delivery, run_sweep
from trace_service.certificates.delivery import DeliveryReport
from trace_service.certificates.importer import ImportLimits, ImportReport, import_certificates
from trace_service.db import get_db, session_scope, utcnow
from trace_service.demo.activity import Activity, record_activity
from trace_service.demo.loader import load_demo, reset_demo_passwords
from trace_service.errors import DomainError
from trace_service.labels import demo as demo_stamps
from trace_service.labels import jobs, payload
from trace_service.labels.scans import CopyRule
from trace_service.principal import Role, system_principal
from trace_service.signing.service import get_keystore

if TYPE_CHECKING:  # click exports the class for typing only
    from click._termui_impl import ProgressBar

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
users_cli = AppGroup("users", help="Accounts and API tokens.")
demo_cli = AppGroup("demo", help="Demo data for Đắk Nông.")
audit_cli = AppGroup("audit", help="The audit log.")


def _fail(error: DomainError) -> None:
    raise click.ClickException(f"{error.message_en} ({error.message})")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at revision {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    with get_db().engine.connect() as connection:
        click.echo(migrate.current_revision(connection) or "(empty database)")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--producer-id", type=int, help="For producer accounts: the producer's id.")
@click.option("--display-name")
@click.option("--email")
@click.password_option(help="Asked for when not given; at least 10 characters.")
def users_create(
    username: str,
    role: str,
    producer_id: int | None,
    display_name: str | None,
    email: str | None,
    password: str,
) -> None:
    """Create an account."""
    try:
        with session_scope() as session:
            user = auth_services.create_user(
                session,
                system_principal("cli"),
                {
                    "username": username,
                    "role": role,
                    "producer_id": producer_id,
                    "display_name": display_name,
                    "email": email,
                    "password": password,
                },
            )
    except DomainError as error:
        _fail(error)
    click.echo(f"Created user {user.username} (id {user.id}, {role}).")  # once committed


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
def users_token(username: str, name: str) -> None:
    """Issue a personal API token for USERNAME and print it (once)."""
    try:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"No user named {username!r}.")
            issued = auth_services.issue_token(
                session, system_principal("cli"), user, name, current_app.config["TOKEN_TTL_DAYS"]
            )
    except DomainError as error:  # a disabled account gets no new token
        _fail(error)
    click.echo(issued.token)


@demo_cli.command("load")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Arrange certificate expiries around this day (default: today).",
)
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the demo accounts' passwords here (mode 600).",
)
def demo_load(today: datetime | None, credentials_file: Path | None) -> None:
    """Load demo data for Đắk Nông (skipped if producers exist already)."""
    bars: dict[str, ProgressBar[int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = click.progressbar(
                length=total, label=stage.ljust(16), file=sys.stderr
            )
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.render_finish()

    # The data and the demo's print-run orders are one unit of work: all or nothing. Drawing
    # the stamps comes after, run by run, and a later run finishes what a failed one left.
    try:
        with session_scope() as session:
            report = load_demo(session, progress=progress, today=today.date() if today else None)
            ordered = _order_demo_print_runs(session)
            activity = _demo_activity(session) if ordered else []
    except ValueError as error:  # a --today the demo data cannot be arranged around
        raise click.ClickException(str(error)) from None
    if report.producers:
        click.echo(
            f"Loaded {report.units} administrative units, {report.producers} producers, "
            f"{report.products} products, {report.areas} raw-material areas, "
            f"{report.evaluations} evaluations, {report.certificates} certificates, "
            f"{report.lots} lots in {report.trace_events} traceability events."
        )
        users = report.users
    else:
        click.echo("Demo data already present; nothing loaded.")
        users = _lost_credentials(credentials_file)
    if users:
        lines = [f"{username}\t{role}\t{password}" for username, role, password in users]
        click.echo("Demo accounts (username, role, password):\n  " + "\n  ".join(lines))
        if credentials_file:
            _save_credentials(credentials_file, lines)
    built = _build_demo_print_runs()
    if ordered or built:
        click.echo(f"Printed demo stamps: {ordered} runs ordered, {built} drawn.")
    for owner, done in activity:
        click.echo(
            f"Demo activity of {owner}: {done.scans} views, {done.flagged} flagged stamp, "
            f"{done.reports} consumer report, {done.inspections} field inspection."
        )


def _lost_credentials(credentials_file: Path | None) -> list[tuple[str, str, str]]:
    """Demo accounts exist but their saved passwords are gone: give them new ones."""
    if credentials_file is None or credentials_file.exists():
        return []
    with session_scope() as session:
        users = reset_demo_passwords(session, system_principal("demo"))
    if users:
        click.echo(f"{credentials_file} was missing: the demo accounts have new passwords.")
    return users


def _save_credentials(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)  # touch keeps an existing file's mode
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    click.echo(f"Saved to {path}.")


def _order_demo_print_runs(session: Session) -> int:
    """Stamps for the demo's packed lots, ordered once: when the demo data exists, its keys
    can sign, and no print run exists yet. Returns how many runs were ordered."""
    if not demo_stamps.wants_demo_print_runs(session):
        return 0
    if not current_app.config["KEYS_PASSPHRASE"]:
        click.echo("No demo stamps: set OCOP_KEYS_PASSPHRASE to sign labels.")
        return 0
    try:
        store = get_keystore()
        store.active_signing_key()
        payload.canonical_base(jobs.label_base_url())
    except DomainError as error:
        click.echo(f"No demo stamps: {error.message_en}")
        return 0
    except ValueError as error:  # the address printed in the QR codes
        click.echo(f"No demo stamps: OCOP_LABEL_BASE_URL / OCOP_PUBLIC_BASE_URL: {error}.")
        return 0
    runs = demo_stamps.demo_print_runs(
        session, system_principal("demo"), store, jobs.label_base_url()
    )
    return len(runs)


def _demo_activity(session: Session) -> list[tuple[str, Activity]]:
    """Views, a flag, a report and an inspection for producer1's and producer2's first
    runs: made with the runs, so once (review finding 8)."""
    rule = CopyRule.from_config(current_app.config)
    cap = current_app.config["MAX_UPLOAD_BYTES"]
    return [
        (owner, record_activity(session, owner, rule, utcnow(), cap))
        for owner in ("producer1", "producer2")
    ]


def _build_demo_print_runs() -> int:
    """Draw every demo run not drawn yet (each in its own unit of work)."""
    with session_scope(writes=False) as session:
        run_ids = demo_stamps.unbuilt_demo_runs(session)
    actor = system_principal("demo")
    for run_id in run_ids:
        with session_scope() as session:
            jobs.build_now(session, run_id, actor, current_app)
    return len(run_ids)


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 if it is broken."""
    with session_scope() as session:
        report = verify_chain(session)
    if not report.intact:
        raise click.ClickException(
            f"Chain broken at event {report.first_broken_id} ({report.events} checked)."
        )
    click.echo(f"Audit chain intact: {report.events} events.")


certs_cli = AppGroup("certs", help="OCOP certificates: expiry sweep, notices, import.")


@certs_cli.command("sweep")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="Sweep as of this day.")
def certs_sweep(day: datetime | None) -> None:
    """Write expiry notices (90, 60, 30 and 0 days) for the certificates that crossed one."""
    report = run_sweep(current_app, day.date() if day else None)
    click.echo(
        f"{report.day.isoformat()}: {report.notices} new notices, "
        f"{report.deliveries} deliveries queued."
    )


@certs_cli.command("deliver")
def certs_deliver() -> None:
    """Send the notices that are due (e-mail and webhook), with retries."""
    _echo_delivery(run_delivery(current_app))


@certs_cli.command("daily")
def certs_daily() -> None:
    """What cron or a systemd timer runs once a day: sweep, then deliver."""
    report = run_daily(current_app)
    click.echo(f"{report.sweep.day.isoformat()}: {report.sweep.notices} new notices.")
    _echo_delivery(report.delivery)


def _echo_delivery(report: DeliveryReport) -> None:
    click.echo(f"Sent {report.sent}, retrying {report.retrying}, failed {report.failed}.")
    if report.waiting_for_mail_server:
        click.echo(
            f"{report.waiting_for_mail_server} e-mails wait: no mail server is "
            "configured (set OCOP_SMTP_HOST)."
        )
    for error in report.errors:
        click.echo(f"  {error}", err=True)


@certs_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and report.")
def certs_import(path: Path, dry_run: bool) -> None:
    """Import a list of certified products (CSV or XLSX): all rows or none."""
    try:
        with session_scope() as session:
            report = import_certificates(
                session,
                system_principal("cli"),
                path.name,
                path.read_bytes(),
                dry_run=dry_run,
                limits=ImportLimits.from_config(current_app.config),
            )
            if not report.ok:
                raise _ImportRefused(report)
    except _ImportRefused as refused:
        for row in refused.report.rows:
            for problem in row.problems:
                click.echo(f"line {row.line}: {problem}", err=True)
        raise click.ClickException("Nothing imported: fix the rows above.") from None
    except DomainError as error:
        _fail(error)
    recorded = len(report.rows) - len(report.new_rows)
    already = f" {recorded} of them recorded already, as the file has them." if recorded else ""
    if dry_run:
        click.echo(
            f"{len(report.rows)} rows checked, no problems.{already} Nothing imported (dry run)."
        )
    else:
        click.echo(f"Imported {report.imported} certificates.{already}")


class _ImportRefused(Exception):
    def __init__(self, report: ImportReport) -> None:
        super().__init__("import refused")
        self.report = report
