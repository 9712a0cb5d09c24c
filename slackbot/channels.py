"""The incident's own Slack channel: its name, creating it (or adopting the one an interrupted
attempt created), and finding the incident a channel belongs to."""

from __future__ import annotations

import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.incident.models import Incident
from slackbot.client import error_code

MAX_NAME = 80  # Slack's limit for channel names
NAME_ATTEMPTS = 5
LIST_PAGE = 1000
_bot_users: dict[tuple[str, str], str] = {}  # (API base, token) → the bot's own user id


def channel_name(incident_id: int, title: str) -> str:
    """`inc-12-checkout-errors`: lower case, digits and hyphens, as Slack requires."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"inc-{incident_id}-{slug}"[:MAX_NAME].rstrip("-")


def candidate_names(name: str) -> list[str]:
    """The name, then `name-2`, `name-3`… for when it is taken by someone else."""
    names = []
    for attempt in range(1, NAME_ATTEMPTS + 1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        names.append(name[:MAX_NAME - len(suffix)] + suffix)
    return names


def create_or_adopt(client: WebClient, name: str) -> dict:
    """Create the channel; when a name is taken by a channel this bot created (an earlier
    attempt that stopped before the id was stored), adopt it; else try the next name.

    Names carry the incident id, so a channel of that name created by this bot is this
    incident's: a retry never creates a second one.
    """
    names = candidate_names(name)
    for candidate in names:
        try:
            return client.conversations_create(name=candidate)["channel"]
        except SlackApiError as exc:
            if error_code(exc) != "name_taken":
                raise
            ours = own_channel_named(client, candidate)
            if ours is not None:
                return ours
            if candidate == names[-1]:
                raise
    raise AssertionError("unreachable")


def own_channel_named(client: WebClient, name: str) -> dict | None:
    """The public channel of this name, if this bot created it."""
    me = bot_user_id(client)
    cursor = None
    while True:
        page = client.conversations_list(types="public_channel", exclude_archived=True,
                                         limit=LIST_PAGE, cursor=cursor)
        for channel in page.get("channels") or []:
            if channel.get("name") == name:
                return channel if channel.get("creator") == me else None
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def bot_user_id(client: WebClient) -> str:
    """The bot's own Slack user id (auth.test), asked once per process and token."""
    key = (client.base_url, client.token or "")
    if key not in _bot_users:
        _bot_users[key] = client.auth_test()["user_id"]
    return _bot_users[key]


def incident_for_channel(session: Session, channel_id: str | None) -> Incident | None:
    """The incident whose own channel this is, if any."""
    if not channel_id:
        return None
    return session.scalar(select(Incident).where(Incident.slack_channel_id == channel_id))
