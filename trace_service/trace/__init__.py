"""Traceability: lots, events, genealogy, recalls, EPCIS export."""
