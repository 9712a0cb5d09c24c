"""Slack users as Linecheck authors: the linked account when there is one, else a name."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.auth.models import Role, User
from slackbot.client import SLACK_FAILURES, web_client

log = logging.getLogger(__name__)


NOT_A_RESPONDER = ("Your Linecheck account is not a responder, so it cannot change incidents. "
                   "Ask an admin for the responder role.")


@dataclass
class Author:
    user: User | None
    name: str

    @property
    def may_change(self) -> bool:
        """Anyone in the workspace may respond, unless their linked account says otherwise."""
        return self.user is None or self.user.can(Role.RESPONDER)


def author(*, session: Session, slack_user_id: str | None, slack_name: str = "") -> Author:
    """The author for a Slack user: User.slack_user_id when linked, else the Slack name."""
    user = None
    if slack_user_id:
        user = session.scalar(select(User).where(User.slack_user_id == slack_user_id))
    if user is not None:
        return Author(user, user.display_name)
    return Author(None, slack_name or slack_user_id or "slack")


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
