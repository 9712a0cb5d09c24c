"""`flask --app app remind`: overdue prevention items, posted to their owner teams in Slack."""

import click
from flask.cli import with_appcontext

from slackbot.reminders import send_reminders


@click.command("remind")
@with_appcontext
def remind_command():
    """Remind owner teams of overdue prevention items in Slack (safe on several hosts)."""
    summary = send_reminders()
    for team, count in summary.sent.items():
        click.echo(f"reminded {team}: {count} overdue item{'s' if count != 1 else ''}")
    for team in summary.no_channel:
        click.echo(f"skipped {team}: the team has no Slack channel set")
    if not summary.sent and not summary.failed:
        click.echo("no reminders due")
    if summary.failed:
        problems = "; ".join(f"{team}: {why}" for team, why in summary.failed.items())
        raise click.ClickException(f"some reminders were not sent (next run retries): {problems}")
