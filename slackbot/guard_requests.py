"""Ask a prevention item's owner team, in its Slack channel, for the guard its closed issue
still needs (queued by tracker sync as a `slack.guard_request` outbox job)."""

from __future__ import annotations

from flask import current_app

from incidents.appdb import new_session
from incidents.outbox import service as outbox
from incidents.prevention.models import PreventionItem, PreventionStatus
from incidents.tracker.service import GUARD_REQUEST
from slackbot.blocks import escape
from slackbot.client import SLACK_FAILURES, web_client


def build_guard_request(item: PreventionItem, tracker: str, issue: str, base_url: str) -> str:
    link = f"{base_url.rstrip('/')}/prevention/{item.id}"
    return (f":shield: *{escape(item.title)}* is done in {escape(tracker)} ({escape(issue)}) "
            f"but is not done here until its guard is given: the check, test, constraint or "
            f"alert that fails if the defect comes back. <{link}|Give the guard>")


@outbox.handler(GUARD_REQUEST, failure="The owner team could not be asked for a guard in Slack")
def ask_for_guard(job: outbox.Job) -> None:
    config = current_app.config
    with new_session() as session:
        item = session.get(PreventionItem, int(job.payload["item_id"]))
        team = item.owner_team if item is not None else None
        still_needed = (item is not None and not item.guard_url
                        and item.status == PreventionStatus.IN_PROGRESS)
        if not (still_needed and team and team.slack_channel_id and config["SLACK_BOT_TOKEN"]):
            return  # given meanwhile, or nowhere to ask: the item page shows it anyway
        text = build_guard_request(item, job.payload.get("tracker", ""),
                                   job.payload.get("issue", ""), config["PUBLIC_BASE_URL"])
        channel = team.slack_channel_id
    try:
        web_client().chat_postMessage(channel=channel, text=text)
    except SLACK_FAILURES as exc:
        raise outbox.vendor_failure(exc) from None
