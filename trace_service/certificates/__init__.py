"""OCOP evaluations, certificates, their lifecycle, and the expiry watch."""
