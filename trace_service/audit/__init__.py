"""Append-only, hash-chained log of every state change."""
