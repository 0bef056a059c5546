"""Realistic demo data for Đắk Nông: producers, OCOP products, listings and raw-material areas.

``catalogue`` holds the plain data (product templates, name patterns, platforms); ``loader``
turns it into registry rows with a seeded random generator, so every load looks the same.
"""
