"""What the registry announces once a change is flushed, for the layers above that show or
keep copies of its records (label pages and their read models, the portal), so the registry
never imports them.

Every signal is sent with the changed record as its sender and these keyword arguments:

- ``session``: the unit of work that made the change. Receivers run in-process, inside it,
  after the flush: they read the change as it is, and whatever they write is committed or
  rolled back with it (the same on SQLite and PostgreSQL). A receiver that raises fails the
  change.
- ``actor``: the ``Principal`` who made it.
- ``change``: ``"created"``, ``"updated"`` or ``"deleted"`` (a deleted record is no longer in
  the session, but its attributes are still readable).
- ``changes``: for an update, the fields that changed as ``{field: [old, new]}`` (as the audit
  log keeps them); for a creation or deletion, the record's fields.

Connect with ``producer_changed.connect(receiver)``; a receiver takes ``(sender, **kwargs)``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

producer_changed = _signals.signal("registry.producer_changed", doc="A producer was changed.")
product_changed = _signals.signal("registry.product_changed", doc="A product was changed.")
area_changed = _signals.signal("registry.area_changed", doc="A raw-material area was changed.")
