"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from trace_service import create_app

app = create_app()
