"""Audit tags of labels, for ``record_event``."""

from trace_service.audit.tags import EventTag


class LabelTag(EventTag):
    RUN_ORDERED = "label:print_run:ordered"
    RUN_BUILT = "label:print_run:built"
    RUN_FAILED = "label:print_run:failed"
    RUN_BUILD_RESUMED = "label:print_run:build_resumed"
    FLAG_CLEARED = "label:label:flag_cleared"
