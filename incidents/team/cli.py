"""`flask --app app teams …`: list, create, rename, merge teams and set their Slack channel."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from incidents.appdb import new_session
from incidents.errors import DomainError
from incidents.team import service


def _run(change):
    """Run `change(session)` and commit, or fail with the domain's words."""
    with new_session() as session:
        try:
            result = change(session)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
        return result


def _named(session, name: str):
    team = service.team_named(session=session, name=name)
    if team is None:
        raise click.ClickException("name a team")
    return team


@click.group("teams", cls=AppGroup, help="Owner teams (incidents and prevention items name one).")
def teams_cli():
    pass


@teams_cli.command("list")
def list_command():
    """Each team: id, name, Slack channel, members, incidents and prevention items."""
    with new_session() as session:
        counts = service.counts(session=session)
        for team in service.teams(session=session):
            n = counts.get(team.id, {})
            click.echo(f"{team.id}\t{team.name}\t{team.slack_channel_id or '-'}\t"
                       f"{n.get('members', 0)} members\t{n.get('incidents', 0)} incidents\t"
                       f"{n.get('items', 0)} items")


@teams_cli.command("create")
@click.argument("name")
@click.option("--channel", default=None, help="Slack channel id for reminders (C0123ABCD).")
def create_command(name, channel):
    team = _run(lambda session: service.create_team(session=session, name=name,
                                                    slack_channel_id=channel))
    click.echo(f"created team {team.name}")


@teams_cli.command("rename")
@click.argument("name")
@click.argument("new_name")
def rename_command(name, new_name):
    team = _run(lambda session: service.rename_team(
        session=session, team=_named(session, name), name=new_name))
    click.echo(f"renamed {name} to {team.name}")


@teams_cli.command("merge")
@click.argument("name")
@click.argument("into")
def merge_command(name, into):
    """Move NAME's incidents, prevention items and members to INTO, then delete NAME."""
    team = _run(lambda session: service.merge_teams(
        session=session, source=_named(session, name), into=_named(session, into)))
    click.echo(f"merged {name} into {team.name}")


@teams_cli.command("set-channel")
@click.argument("name")
@click.argument("channel", required=False)
def set_channel_command(name, channel):
    """Set the team's Slack channel id (none given: clear it, and with it the reminders)."""
    team = _run(lambda session: service.set_channel(
        session=session, team=_named(session, name), slack_channel_id=channel))
    click.echo(f"{team.name}: reminders go to {team.slack_channel_id}" if team.slack_channel_id
               else f"{team.name}: no Slack channel (no reminders)")
