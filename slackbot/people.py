"""Slack users as Linecheck authors: the linked account when there is one, else a name."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.auth import service as auth
from incidents.auth.models import Role, User
from incidents.db import utcnow
from slackbot.client import SLACK_FAILURES, web_client

log = logging.getLogger(__name__)


NOT_A_RESPONDER = ("Your Linecheck account is not a responder, so it cannot change incidents. "
                   "Ask an admin for the responder role.")
NOT_LINKED = ("Only Slack members linked to a Linecheck account may change incidents here. "
              "Linecheck links you by your Slack email when it matches your account's (try "
              "again in a minute); otherwise ask an admin to link you on your user page.")


@dataclass
class Author:
    user: User | None
    name: str
    linked_only: bool = False  # SLACK_LINKED_USERS_ONLY

    @property
    def may_change(self) -> bool:
        """Anyone in the workspace may respond (unless only linked members may), unless their
        linked account says otherwise."""
        if self.user is None:
            return not self.linked_only
        return self.user.can(Role.RESPONDER)

    @property
    def refusal(self) -> str:
        return NOT_LINKED if self.user is None else NOT_A_RESPONDER


def author(*, session: Session, slack_user_id: str | None, slack_name: str = "") -> Author:
    """The author for a Slack user: User.slack_user_id when linked, else the Slack name."""
    user = None
    if slack_user_id:
        user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
    if user is not None:
        return Author(user, user.display_name)
    return Author(None, slack_name or slack_user_id or "slack")


def acting(*, session: Session, slack_user_id: str | None, slack_name: str = "") -> Author:
    """The author of a command or form: an unlinked member has their account looked for by
    email (queued and committed now, whether or not what they asked for is allowed)."""
    found = author(session=session, slack_user_id=slack_user_id, slack_name=slack_name)
    found.linked_only = bool(current_app.config.get("SLACK_LINKED_USERS_ONLY"))
    if found.user is None and slack_user_id and current_app.config.get("SLACK_BOT_TOKEN"):
        if auth.request_slack_link(session=session, slack_user_id=slack_user_id,
                                   today=utcnow().date()):
            session.commit()
    return found


def slack_name(slack_user_id: str | None) -> str:
    """Ask Slack for a user's name (in the worker only); empty when it cannot tell."""
    if not slack_user_id:
        return ""
    try:
        found = web_client().users_info(user=slack_user_id).get("user") or {}
    except SLACK_FAILURES:
        log.warning("users.info failed for %s", slack_user_id, exc_info=True)
        return ""
    profile = found.get("profile") or {}
    return (profile.get("display_name") or profile.get("real_name") or found.get("real_name")
            or found.get("name") or "")
