"""The CI consumers: GitHub `check_run`/`workflow_run`, GitLab `pipeline`/`build`, and the
generic `/hooks/ci` post all store their runs here and look for guards that broke."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy.orm import Session

from incidents.db import utcnow
from incidents.guard import notices, runs
from incidents.guard.providers import github, gitlab
from incidents.guard.runs import RunReport
from incidents.hooks.webhooks import Handled


def apply(*, session: Session, reports: list[RunReport], unused: str) -> Handled:
    """Store the runs once each; tell owner teams whose guards they broke."""
    if not reports:
        return Handled.ignored(unused)
    recorded = runs.record(session=session, runs=reports)
    notices.check(session=session, now=utcnow(), item_ids=recorded.item_ids,
                  watch_window_days=int(current_app.config["WATCH_WINDOW_DAYS"]))
    stored = len(recorded.run_ids)
    message = (f"{stored} run(s) recorded" if stored
               else "these runs were recorded before; nothing changed")
    return Handled("applied", message, refs={"guard_runs": recorded.run_ids,
                                             "prevention_items": recorded.item_ids})


def _consumer(parse: Callable[[dict], list[RunReport]], unused: str):
    def consume(*, session: Session, body: dict, delivery: str) -> Handled:
        del delivery  # runs carry their own identity (see runs.py)
        return apply(session=session, reports=parse(body), unused=unused)

    consume.__name__ = f"consume_{parse.__module__.rsplit('.', 1)[-1]}_{parse.__name__}"
    return consume


github_check_run = _consumer(github.check_run, "only completed check runs report a verdict")
github_workflow_run = _consumer(github.workflow_run,
                                "only completed workflow runs report a verdict")
gitlab_pipeline = _consumer(gitlab.pipeline, "only finished pipelines report runs")
gitlab_build = _consumer(gitlab.build, "only finished jobs report a verdict")
