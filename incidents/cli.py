"""`flask --app app …` commands: users, tokens, demo data."""

from __future__ import annotations

import copy

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from incidents.appdb import new_session
from incidents.auth import service as auth
from incidents.auth.models import Role, Scope, User
from incidents.errors import DomainError


def _fail(exc: DomainError):
    raise click.ClickException(exc.message)


@click.group("users", cls=AppGroup, help="Manage users.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="viewer")
# Asked for, hidden and twice, so the password stays out of shell history and `ps`; scripts
# may still pass it.
@click.option("--password", prompt="Password", hide_input=True, confirmation_prompt=True,
              help="Prompted for when absent (given here, it shows in ps and shell history).")
@click.option("--name", default="")
@click.option("--team", default=None)
def create_user(email, role, password, name, team):
    """Create a user with a password and a role (the password is prompted for)."""
    with new_session() as session:
        try:
            user = auth.create_user(session=session, email=email, password=password, role=role,
                                    name=name, team=team)
        except DomainError as exc:
            _fail(exc)
        session.commit()
        click.echo(f"created {user.email} ({user.role})")


@users_cli.command("list")
def list_users():
    with new_session() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            state = "" if user.active else " (inactive)"
            click.echo(f"{user.id}\t{user.email}\t{user.role}{state}")


def _change_user(email: str, change) -> User:
    """Run `change(session, user)` for the user with this email and commit (never wait for
    input inside: on SQLite the transaction holds the write lock)."""
    with new_session() as session:
        try:
            user = auth.user_by_email(session=session, email=email)
            change(session, user)
        except DomainError as exc:
            _fail(exc)
        session.commit()
        return user


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email, role):
    user = _change_user(email, lambda session, user: auth.set_role(session=session, user=user,
                                                                    role=role))
    click.echo(f"{user.email} is now {role}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Refuse the user's sign-in and end every session they have, at once."""
    user = _change_user(email, lambda session, user: auth.set_active(
        session=session, user=user, active=False))
    click.echo(f"{user.email} is deactivated; every session of theirs has ended")


@users_cli.command("activate")
@click.argument("email")
def activate(email):
    """Let a deactivated user sign in again."""
    user = _change_user(email, lambda session, user: auth.set_active(
        session=session, user=user, active=True))
    click.echo(f"{user.email} is active")


@users_cli.command("set-password")
@click.argument("email")
def set_password(email):
    """Set a user's password (prompted for, never an argument); their sessions end."""
    _change_user(email, lambda session, user: None)  # no such user: say so before asking
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    user = _change_user(email, lambda session, user: auth.set_password(
        session=session, user=user, password=password))
    click.echo(f"new password set for {user.email}; every session of theirs has ended")


@click.group("tokens", cls=AppGroup, help="Manage API tokens.")
def tokens_cli():
    pass


@tokens_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice([s.value for s in Scope]), help="Repeat for several scopes.")
def create_token(name, scopes):
    """Create a token; the token itself is printed alone on the last line, once."""
    with new_session() as session:
        try:
            token, raw = auth.create_token(session=session, name=name, scopes=list(scopes))
        except DomainError as exc:
            _fail(exc)
        session.commit()
        click.echo(f"created token {token.id} '{token.name}' with scopes {token.scopes}")
        click.echo("store it now; it is not shown again:")
        click.echo(raw)


@tokens_cli.command("list")
def list_tokens():
    with new_session() as session:
        for token in auth.list_tokens(session=session):
            state = "revoked" if token.revoked_at else "active"
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            click.echo(f"{token.id}\t{token.name}\t{token.prefix}…\t{token.scopes}\t{state}"
                       f"\tlast used {used}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id):
    with new_session() as session:
        try:
            auth.revoke_token(session=session, token_id=token_id)
        except DomainError as exc:
            _fail(exc)
        session.commit()
        click.echo(f"revoked token {token_id}")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo data set (idempotent) and print the demo logins."""
    from incidents import demo

    with new_session() as session:
        created = demo.load(session=session)
        session.commit()
    click.echo("demo data loaded" if created else "demo data already present")
    for email, role in demo.LOGINS:
        click.echo(f"  {role:<10} {email} / {demo.PASSWORD}")


def init_app(app: Flask) -> None:
    from incidents.dataport import export_command, import_command
    from incidents.guard.cli import guards_cli
    from incidents.outbox.cli import worker_command
    from incidents.review.cli import reviews_cli
    from incidents.team.cli import teams_cli
    from incidents.tracker.cli import trackers_cli
    from slackbot.cli import remind_command

    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(remind_command)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(trackers_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(reviews_cli)
    app.cli.add_command(guards_cli)
    app.cli.add_command(teams_cli)


def refuse_all(app: Flask, problem: str) -> None:
    """Make every command of the app refuse as it runs, with `problem`; `--help` at any level
    still lists them."""
    for name, command in list(app.cli.commands.items()):
        app.cli.commands[name] = _refusing(command, problem)


def _refusing(command: click.Command, problem: str) -> click.Command:
    refusing = copy.copy(command)  # the command objects are shared by every app
    if isinstance(command, click.Group):
        refusing.commands = {name: _refusing(sub, problem)
                             for name, sub in command.commands.items()}
    else:
        def refuse(ctx: click.Context):
            raise click.ClickException(problem)

        refusing.invoke = refuse
    return refusing
