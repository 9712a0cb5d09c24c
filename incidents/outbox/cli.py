"""`flask --app app worker`: carry out queued side effects; `--drain` for cron and tests,
`--status` for operators."""

from __future__ import annotations

import logging
import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from incidents.db import new_session
from incidents.outbox import service as outbox
from incidents.outbox.worker import Worker


def _print_status() -> None:
    with new_session() as session:
        counts = outbox.counts(session=session)
        click.echo(f"queued {counts.queued}, retrying {counts.retrying}, dead {counts.dead}, "
                   f"done {counts.done}")
        for job in outbox.pending(session=session):
            if job.retrying:
                click.echo(f"retrying {job.id}\t{job.kind}\tattempt {job.attempts}\tnext "
                           f"{job.available_at.isoformat()}\t{job.last_error}")
        for job in outbox.dead(session=session):
            click.echo(f"dead {job.id}\t{job.kind}\tincident {job.incident_id or '-'}\t"
                       f"{job.last_error}")


@click.command("worker")
@click.option("--drain", is_flag=True, help="Run every job that is due, then exit.")
@click.option("--status", is_flag=True, help="Show queued, retrying and dead jobs, then exit.")
@with_appcontext
def worker_command(drain: bool, status: bool):
    """Carry out queued side effects (Slack posts, channels, reminders), retrying with backoff."""
    if status:
        _print_status()
        return
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker = Worker(current_app._get_current_object())
    # SIGTERM (a deploy) and Ctrl-C finish the job in hand, then stop: nothing is cut off.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    ran = worker.run(drain=drain)
    if drain:
        click.echo(f"ran {ran} job{'s' if ran != 1 else ''}")
