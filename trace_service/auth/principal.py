"""Moved to ``trace_service/principal.py`` (the bottom layer, below the audit log); kept for
the modules not yet importing it from there."""

from trace_service.principal import ANONYMOUS, Principal, Role, system_principal

__all__ = ["ANONYMOUS", "Principal", "Role", "system_principal"]
