"""``flask keys …`` (signing keys, trust list) and ``flask labels …`` (print runs)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from trace_service.audit.services import record_event
from trace_service.db import session_scope
from trace_service.errors import DomainError
from trace_service.labels import build, jobs, services
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.principal import Principal, system_principal
from trace_service.signing.keystore import KeyInfo, KeyRole, KeyStoreLocked
from trace_service.signing.service import (
    get_keystore,
    init_keys,
    publish_trust_list,
    root_public_key,
)
from trace_service.signing.tags import SigningTag

keys_cli = AppGroup("keys", help="Label-signing keys and the trust list verifiers carry.")
labels_cli = AppGroup("labels", help="OCOP label print runs.")


def _fail(error: DomainError) -> None:
    raise click.ClickException(f"{error.message_en} ({error.message})")


def _audited(tag: SigningTag, info: KeyInfo, trust_list_version: int) -> None:
    with session_scope() as session:
        details = {"role": info.role.value, "status": info.status.value}
        record_event(session, system_principal("cli"), tag, "signing_key", info.kid, details)
        record_event(
            session,
            system_principal("cli"),
            SigningTag.TRUST_LIST_SIGNED,
            "trust_list",
            trust_list_version,
        )


def _changed(tag: SigningTag, info: KeyInfo) -> None:
    """After any key change: publish the next trust list and record both."""
    document = publish_trust_list(get_keystore())
    _audited(tag, info, document["version"])
    click.echo(f"{info.kid}: {info.role.value}, {info.status.value}.")
    click.echo(f"Trust list version {document['version']} published.")


@keys_cli.command("init")
def keys_init() -> None:
    """Make the signing and root keys a new installation needs, once; safe to run again."""
    try:
        report = init_keys()
        get_keystore().signer()  # the passphrase opens the key that signs stamps
    except KeyStoreLocked:
        raise click.ClickException(
            f"The keys in {current_app.config['KEYS_DIR']} were made with another passphrase: "
            "give the one that made them (OCOP_KEYS_PASSPHRASE, or instance/keys-passphrase "
            "as scripts/run keeps it), or move that directory aside to make new keys (stamps "
            "signed by the old keys then verify only with their trust list). (Kho khóa được tạo "
            "bằng mật khẩu khác: hãy dùng lại mật khẩu cũ, hoặc chuyển thư mục khóa đi để tạo "
            "khóa mới.)"
        ) from None
    except DomainError as error:
        _fail(error)
        return
    for kid in report.made:
        click.echo(f"Created key {kid} ({get_keystore().get(kid).role.value}).")
    if report.trust_list_version is not None:
        click.echo(f"Trust list version {report.trust_list_version} published.")
    if not report.made:
        click.echo("Signing and root keys exist; nothing made.")


@keys_cli.command("list")
def keys_list() -> None:
    """Every key with its role and status (public facts only)."""
    try:
        for info in get_keystore().public_keys():
            click.echo(
                f"{info.kid}  {info.role.value:<7}  {info.status.value:<11}  "
                f"created {info.created_at:%Y-%m-%d %H:%M}Z"
            )
    except DomainError as error:
        _fail(error)


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """A new signing key signs from now on; the previous one is retired (still verifies)."""
    try:
        _changed(SigningTag.KEY_ROTATED, get_keystore().rotate())
    except DomainError as error:
        _fail(error)


@keys_cli.command("create")
@click.option("--root", is_flag=True, help="Create the root key (when none is active).")
def keys_create(root: bool) -> None:
    """Create a signing (or root) key when none of that role is active."""
    try:
        store = get_keystore()
        _changed(SigningTag.KEY_CREATED, store.create(KeyRole.ROOT if root else KeyRole.SIGNING))
    except DomainError as error:
        _fail(error)


@keys_cli.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Stop a key signing; the labels it signed still verify."""
    try:
        _changed(SigningTag.KEY_RETIRED, get_keystore().retire(kid))
    except DomainError as error:
        _fail(error)


@keys_cli.command("compromise")
@click.argument("kid")
@click.confirmation_option(prompt="Every label this key signed will show a warning. Go on?")
def keys_compromise(kid: str) -> None:
    """Distrust a key: labels it signed show a warning from now on."""
    try:
        _changed(SigningTag.KEY_COMPROMISED, get_keystore().mark_compromised(kid))
    except DomainError as error:
        _fail(error)


@keys_cli.command("publish")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write it to this file."
)
def keys_publish(out: Path | None) -> None:
    """Sign the current keys as the next trust-list version (for offline verifiers)."""
    try:
        document = publish_trust_list(get_keystore())
    except DomainError as error:
        _fail(error)
        return
    with session_scope() as session:
        record_event(
            session,
            system_principal("cli"),
            SigningTag.TRUST_LIST_SIGNED,
            "trust_list",
            document["version"],
        )
    if out is not None:
        out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    click.echo(f"Trust list version {document['version']} published.")


@keys_cli.command("root")
def keys_root() -> None:
    """The root key's public key, for verifiers to pin."""
    try:
        click.echo(json.dumps(root_public_key(get_keystore())))
    except DomainError as error:
        _fail(error)


@labels_cli.command("order")
@click.option("--product-id", type=int, required=True)
@click.option("--lot-id", type=int, required=True)
@click.option("--quantity", type=int, required=True)
@click.option("--scratch-code", is_flag=True, help="Print a scratch-off secret on each stamp.")
@click.option("--idempotency-key")
def labels_order(
    product_id: int, lot_id: int, quantity: int, scratch_code: bool, idempotency_key: str | None
) -> None:
    """Order a print run and build its A4 sheet now, with a progress bar."""
    actor = system_principal("cli")
    order = services.RunOrder(
        product_id, lot_id, quantity, scratch_code, idempotency_key=idempotency_key
    )
    try:
        with session_scope() as session:
            run, created = services.order_print_run(
                session, actor, order, get_keystore(), jobs.label_base_url()
            )
            run_id = run.id
    except DomainError as error:
        _fail(error)
        return
    click.echo(f"Print run {run_id}: {quantity} labels {'issued' if created else '(existing)'}.")
    _build(run_id, actor)


@labels_cli.command("build")
@click.argument("run_id", type=int)
def labels_build(run_id: int) -> None:
    """Build (or resume) a run's files from its issued labels; no new serials."""
    _build(run_id, system_principal("cli"))


def _build(run_id: int, actor: Principal) -> None:
    with session_scope() as session:
        built = jobs.build_now(session, run_id, actor, current_app)
        run = session.get(PrintRun, run_id)
        if run is None:
            raise click.ClickException(f"No print run {run_id}.")
        status, error, files = run.status, run.error, dict(run.files)
    if not built and status is not RunStatus.READY:
        raise click.ClickException(f"Run {run_id} is {status.value}; nothing to build now.")
    if not built:
        click.echo(f"Run {run_id} is ready already; its files:")
    if status is RunStatus.FAILED:
        raise click.ClickException(f"Run {run_id} failed: {error}. Run `flask labels build`.")
    folder = jobs.files_root() / f"run-{run_id}"
    for sheet in files.get("sheets", []):
        click.echo(f"Run {run_id}: {folder / sheet['name']} ({sheet['pages']} pages).")
    for entry in files.get("zpl", []):
        if "error" in entry:
            click.echo(f"Run {run_id}: no ZPL at {entry['dpi']} dpi: {entry['error']}")
            continue
        for part in build.zpl_parts(entry):
            where = folder / part["name"]
            click.echo(f"Run {run_id}: {where} ({part['labels']} labels, {entry['dpi']} dpi).")


@labels_cli.command("prune-scans")
def labels_prune_scans() -> None:
    """Delete scan-log rows older than OCOP_SCAN_RETENTION_DAYS; on PostgreSQL, also add the
    coming months' partitions and drop months past the retention. Run it daily or monthly."""
    from trace_service.db import utcnow
    from trace_service.labels.scan_log import prune_scans

    days = current_app.config["SCAN_RETENTION_DAYS"]
    with session_scope() as session:
        pruned = prune_scans(session, utcnow(), days)
    click.echo(
        f"Scan log: {pruned.deleted} views older than {days} days deleted; "
        f"partitions dropped: {', '.join(pruned.dropped) or 'none'}; "
        f"added: {', '.join(pruned.created) or 'none'}."
    )
