"""Audit tags of offline verification, for ``record_event``."""

from trace_service.audit.tags import EventTag


class VerifyTag(EventTag):
    SNAPSHOT_SIGNED = "verify:snapshot:signed"
    INSPECTION_RECORDED = "verify:inspection:recorded"
    DEVICE_REGISTERED = "verify:device:registered"
    DEVICE_REVOKED = "verify:device:revoked"
    PROPOSAL_DECIDED = "verify:inspection:decided"
    LAB_RESULT_RECORDED = "verify:inspection:lab_result"
    PHOTO_ADDED = "verify:inspection:photo"
