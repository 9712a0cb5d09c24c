"""`flask --app app trackers …`: reconcile now, list the teams' trackers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from incidents.appdb import new_session
from incidents.tracker import jobs, service


@click.group("trackers", cls=AppGroup, help="Tracker sync (GitHub Issues, Jira, Linear).")
def trackers_cli():
    pass


@trackers_cli.command("sync")
def sync_command():
    """Fetch the state of every open item's issue (and open issues still to be created);
    report what drifted beyond repair. Also queues the worker's next scheduled reconcile."""
    summary = jobs.sync_all()
    with new_session() as session:
        service.schedule_sync(session=session,
                              every_minutes=current_app.config["TRACKER_SYNC_MINUTES"])
        session.commit()
    click.echo(f"checked {summary.checked} item(s), created {summary.created} issue(s), "
               f"{len(summary.drift)} drifting, {len(summary.failed)} to retry")
    for item_id, problem in sorted(summary.drift.items()):
        click.echo(f"drift\titem {item_id}\t{problem}")
    for item_id, why in sorted(summary.failed.items()):
        click.echo(f"retry\titem {item_id}\t{why}")


@trackers_cli.command("list")
def list_command():
    """Each team's tracker (never its credential)."""
    with new_session() as session:
        for tracker in sorted(service.trackers(session=session).values(),
                              key=lambda t: t.team.name):
            where = tracker.site_url or ""
            token = f"stored {tracker.credential_hint}" if tracker.credential else "environment"
            click.echo(f"{tracker.team.name}\t{tracker.vendor_label}\t{tracker.project}\t"
                       f"{where}\ttoken: {token}")
