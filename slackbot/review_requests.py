"""Telling a reviewer in a Slack DM that a review was sent to them (outbox kind
`slack.review_request`, queued by incidents.review.signoff.assign)."""

from __future__ import annotations

from flask import current_app
from slack_sdk.models.blocks import SectionBlock

from incidents.appdb import new_session
from incidents.auth.models import User
from incidents.outbox import service as outbox
from incidents.review.models import Review
from incidents.review.signoff import REVIEW_REQUEST
from slackbot.client import SLACK_FAILURES, error_code, web_client

# Slack errors a retry cannot fix: the user is gone, or the bot may not write to them.
GONE = {"user_not_found", "channel_not_found", "cannot_dm_bot", "user_disabled",
        "invalid_auth", "account_inactive", "token_revoked"}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_review_request(review: Review, asked_by: str, base_url: str) -> tuple[str, list]:
    """The DM: which incident's review, who asked, where to read it."""
    incident = review.incident
    link = f"{base_url.rstrip('/')}/incidents/{incident.id}/review#publish"
    by = f" by {_escape(asked_by)}" if asked_by else ""
    text = (f":memo: You were asked{by} to review #{incident.id} {_escape(incident.title)} "
            f"({incident.severity}).")
    return text, [SectionBlock(text=f"{text}\n<{link}|Open the review>").to_dict()]


@outbox.handler(REVIEW_REQUEST, failure="A reviewer could not be told in Slack of a review")
def tell_reviewer(job: outbox.Job) -> None:
    with new_session() as session:
        review = session.get(Review, job.payload["review_id"])
        reviewer = session.get(User, job.payload["reviewer_id"])
        if review is None or reviewer is None or review.reviewer_id != reviewer.id:
            return  # the review is gone or went to someone else since: nothing to tell
        if not reviewer.slack_user_id:
            raise outbox.Dead(f"{reviewer.display_name} has no Slack user id")
        channel = reviewer.slack_user_id
        text, blocks = build_review_request(review, job.payload.get("asked_by", ""),
                                            current_app.config["PUBLIC_BASE_URL"])
    try:
        # A user id as the channel posts to the bot's DM with that user.
        web_client().chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SLACK_FAILURES as exc:
        if error_code(exc) in GONE:
            raise outbox.Dead(f"Slack answered {error_code(exc)}") from exc
        raise outbox.vendor_failure(exc) from exc
