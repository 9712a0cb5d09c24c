"""`flask --app app guards check`: find done items whose guard broke (a check that stops
running goes stale with no event at all) and queue their owner teams' notices. Safe from cron
on several hosts: each transition is claimed once (see notices.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from incidents.appdb import new_session
from incidents.db import utcnow
from incidents.guard import notices


@click.group("guards")
def guards_cli():
    """Guards of done prevention items."""


@guards_cli.command("check")
@with_appcontext
def check_command():
    """Queue a Slack notice for every guard that broke since its team was last told."""
    with new_session() as session:
        told = notices.check(session=session, now=utcnow(),
                             watch_window_days=int(current_app.config["WATCH_WINDOW_DAYS"]))
        session.commit()
    for transition in told:
        click.echo(f"item {transition.item_id}: guard {transition.health.value}")
    click.echo(f"{len(told)} guard(s) newly broken; notices queued for the worker")
