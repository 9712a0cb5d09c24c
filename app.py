"""Entry point: `flask --app app run`, `gunicorn "app:create_app()"`."""

from incidents import create_app

__all__ = ["create_app"]
