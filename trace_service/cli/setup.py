"""``flask setup``: what an installation needs before it serves, in one process (each
``flask`` command loads the whole app once; four of them took half a minute on a busy
machine): the schema, the signing keys, optionally the demo data and its stamps, and
today's expiry notices. Every step is safe to run again and makes nothing twice."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from trace_service.cli.commands import certs_sweep, db_upgrade, demo_load
from trace_service.cli.labels import keys_init


@click.command("setup")
@click.option("--demo", is_flag=True, help="Also load the Đắk Nông demo data (once).")
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --demo: write the demo accounts' passwords here (mode 600).",
)
@click.pass_context
@with_appcontext
def setup(ctx: click.Context, demo: bool, credentials_file: Path | None) -> None:
    """Create or upgrade the schema, make the keys, load the demo (--demo), sweep."""
    ctx.invoke(db_upgrade, revision="head")
    if current_app.config["KEYS_PASSPHRASE"]:
        ctx.invoke(keys_init)
    else:
        click.echo("No signing keys: set OCOP_KEYS_PASSPHRASE, then run 'flask keys init'.")
    if demo:
        ctx.invoke(demo_load, today=None, credentials_file=credentials_file)
    ctx.invoke(certs_sweep, day=None)
