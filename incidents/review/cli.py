"""`flask --app app reviews refresh`: store every review's rendered HTML and blame flags."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from incidents.appdb import new_session
from incidents.review import service


@click.group("reviews", cls=AppGroup, help="Maintain reviews.")
def reviews_cli():
    pass


@reviews_cli.command("refresh")
def refresh_command():
    """Render and check every review again (after an upgrade, or a retrained blame model)."""
    with new_session() as session:
        count = service.refresh(session=session)
        session.commit()
    click.echo(f"refreshed {count} review(s)")
