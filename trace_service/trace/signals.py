"""What trace announces once a change is flushed, for the layers above whose pages show it
(a label page warns of a recall reaching its lot, and shows a corrected event as such), so
trace never imports them.

Every signal is sent with keyword arguments ``session`` (the unit of work that made the
change: receivers run in-process, inside it, after the flush, and what they write is
committed or rolled back with it, the same on SQLite and PostgreSQL; a receiver that raises
fails the change) and ``actor`` (the ``Principal`` who made it), and:

- ``lot_recalled``: sender the new ``Recall``; ``lot``, the recalled ``Lot`` (everything made
  from it is affected: ``services.descendants(lot.id)``).
- ``event_corrected``: sender the correction (a ``TraceEvent`` of kind ``correction``);
  ``corrected``, the event it declares erroneous.

Connect with ``lot_recalled.connect(receiver)``; a receiver takes ``(sender, **kwargs)``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

lot_recalled = _signals.signal("trace.lot_recalled", doc="A lot was recalled.")
event_corrected = _signals.signal(
    "trace.event_corrected", doc="An event was declared erroneous by a correction."
)
