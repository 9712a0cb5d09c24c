"""Telling an owner team in Slack that a done item's guard broke (outbox kind
`slack.guard_health`, queued by incidents.guard.notices once per transition)."""

from __future__ import annotations

from flask import current_app
from slack_sdk.models.blocks import SectionBlock

from incidents.appdb import new_session
from incidents.guard.models import Health
from incidents.guard.notices import KIND
from incidents.outbox import service as outbox
from incidents.prevention.models import PreventionItem
from slackbot.client import SLACK_FAILURES, error_code, web_client

# Slack errors a retry cannot fix: the channel is gone, or the bot may not post there.
GONE = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth",
        "account_inactive", "token_revoked"}
WHY = {
    Health.FAILING: "its last run on its branch failed",
    Health.STALE: "nothing has run it in {days} days (deleted, renamed, disabled or skipped?)",
    Health.TEST_MISSING: "its job ran, but the named test did not",
}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_guard_notice(item: PreventionItem, health: Health, days: int,
                       base_url: str) -> tuple[str, list]:
    """The message: which item, which guard, what broke, where to look."""
    link = f"{base_url.rstrip('/')}/prevention/{item.id}#guard"
    why = WHY[health].format(days=days)
    text = (f":warning: The guard of done item #{item.id} {_escape(item.title)} is "
            f"{health.value.replace('_', ' ')}: {why}.")
    detail = (f"{text}\nGuard: {_escape(item.guard.describe())}\nThe poka-yoke may be gone. "
              f"<{link}|See its runs>")
    return text, [SectionBlock(text=detail).to_dict()]


@outbox.handler(KIND, failure="An owner team could not be told in Slack that a guard broke")
def post_guard_health(job: outbox.Job) -> None:
    with new_session() as session:
        item = session.get(PreventionItem, job.payload["item_id"])
        if item is None or item.guard is None or item.guard.id != job.payload["guard_id"]:
            return  # the item or its guard is gone: nothing left to tell
        team = item.owner_team
        if team is None or not team.slack_channel_id:
            raise outbox.Dead(f"team {team.name if team else '?'} has no Slack channel")
        channel = team.slack_channel_id
        text, blocks = build_guard_notice(item, Health(job.payload["health"]),
                                          job.payload["days"],
                                          current_app.config["PUBLIC_BASE_URL"])
    try:
        web_client().chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SLACK_FAILURES as exc:
        if error_code(exc) in GONE:
            raise outbox.Dead(f"Slack answered {error_code(exc)}") from exc
        raise outbox.vendor_failure(exc) from exc
