"""Audit tags of key management, for ``record_event``."""

from trace_service.audit.tags import EventTag


class SigningTag(EventTag):
    KEY_CREATED = "signing:key:created"
    KEY_ROTATED = "signing:key:rotated"
    KEY_RETIRED = "signing:key:retired"
    KEY_COMPROMISED = "signing:key:compromised"
    TRUST_LIST_SIGNED = "signing:trust_list:signed"
