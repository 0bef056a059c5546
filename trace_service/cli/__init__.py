"""``flask …`` commands: thin wrappers over services that commit once and exit non-zero on error."""

from __future__ import annotations

from flask import Flask

from trace_service.cli.backup import backup_cli
from trace_service.cli.commands import audit_cli, certs_cli, db_cli, demo_cli, users_cli
from trace_service.cli.faults import database_faults_as_messages
from trace_service.cli.labels import keys_cli, labels_cli
from trace_service.cli.setup import setup
from trace_service.queue.worker import jobs_cli


def register_commands(app: Flask) -> None:
    for group in (
        db_cli,
        users_cli,
        demo_cli,
        certs_cli,
        keys_cli,
        labels_cli,
        audit_cli,
        backup_cli,
        jobs_cli,
        setup,
    ):
        database_faults_as_messages(group)
        app.cli.add_command(group)
