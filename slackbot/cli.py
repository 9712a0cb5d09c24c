"""`flask --app app remind`: queue reminders of overdue prevention items for their owner teams."""

import click
from flask.cli import with_appcontext

from incidents.appdb import new_session
from slackbot.reminders import queue_reminders


@click.command("remind")
@with_appcontext
def remind_command():
    """Queue Slack reminders of overdue prevention items (safe on several hosts); the worker
    posts them."""
    with new_session() as session:
        summary = queue_reminders(session=session)
    for team, count in summary.queued.items():
        click.echo(f"queued a reminder for {team}: {count} overdue item{'s' if count != 1 else ''}")
    for team in summary.no_channel:
        click.echo(f"skipped {team}: the team has no Slack channel set "
                   f"(/admin/teams, or flask teams set-channel NAME C0123ABCD)")
    if not summary.queued:
        click.echo("no reminders due")
