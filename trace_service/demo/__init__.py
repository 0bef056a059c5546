"""Realistic demo data for Đắk Nông: producers, OCOP products, listings, raw-material areas,
accounts, OCOP evaluations and certificates, and traceability chains.

The data is in ``data/`` (CSV, GeoJSON and TOML; ``data/README.md`` describes each file);
``loader.load_demo`` puts it into the database, dating what depends on the day of loading.
"""
