"""Audit tags of consumer reports, for ``record_event``."""

from trace_service.audit.tags import EventTag


class ReportTag(EventTag):
    SUBMITTED = "reports:consumer_report:submitted"
    CLOSED = "reports:consumer_report:closed"
