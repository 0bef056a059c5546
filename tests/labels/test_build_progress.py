"""A build reports its progress about once a second, and always its last count: each report
is a write transaction of its own (on SQLite, the database's write lock)."""

from __future__ import annotations

from trace_service.labels.build import reported_every


def test_reports_within_the_interval_are_dropped_but_never_the_last() -> None:
    seen: list[int] = []
    report = reported_every(seen.append, final=90, seconds=3600)
    for done in range(18, 91, 18):  # a page of 18 stamps at a time, as the sheet draws them
        report(done)
    assert seen == [18, 90]


def test_with_no_interval_every_report_passes() -> None:
    seen: list[int] = []
    report = reported_every(seen.append, final=36, seconds=0)
    for done in (18, 36):
        report(done)
    assert seen == [18, 36]
