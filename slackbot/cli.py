"""Placeholder: `flask remind` is built with the Slack bot."""

import click
from flask.cli import with_appcontext


@click.command("remind")
@with_appcontext
def remind_command():
    """Remind owner teams of overdue prevention items in Slack."""
    raise click.ClickException("not built yet")
