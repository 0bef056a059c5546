"""Commands say plainly when the database cannot do what they ask (unreachable, read-only,
a full disk) and exit non-zero, instead of printing a traceback: cron mails the message to
the operator, and the unit of work was rolled back, so running the command again once the
database is back finishes the job."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from trace_service.errors import database_fault


def _plain(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except DBAPIError as error:
            fault = database_fault(error)
            if fault is None:
                raise
            raise click.ClickException(
                f"{fault.message_en} ({fault.message}) [{type(error.orig).__name__}]"
            ) from error

    return run


def database_faults_as_messages(command: click.Command) -> None:
    """Wrap ``command`` (and, for a group, each of its commands) once."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            database_faults_as_messages(sub)
    elif command.callback is not None and not getattr(command.callback, "_ocop_plain", False):
        command.callback = _plain(command.callback)
        command.callback._ocop_plain = True  # type: ignore[attr-defined]
