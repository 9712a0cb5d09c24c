"""Linking Slack members to Linecheck accounts by email, in the worker (outbox kinds
`slack.link_user`, queued when an unlinked member acts, and `slack.find_user`, queued by an
admin). Both look at the links already made first, so a retry is harmless."""

from __future__ import annotations

from sqlalchemy import select

from incidents.appdb import new_session
from incidents.auth import service as auth
from incidents.auth.models import User
from incidents.outbox import service as outbox
from slackbot.client import SLACK_FAILURES, error_code, job_failure, web_client

# The member has no email Slack will tell (a bot, or the app lacks users:read.email), or none
# matches: nothing to link, and asking again will not change that.
NOTHING_TO_LINK = {"user_not_found", "users_not_found", "missing_scope", "not_allowed_token_type"}


def _email_of(member: dict) -> str:
    return ((member or {}).get("profile") or {}).get("email") or ""


@outbox.handler(auth.SLACK_LINK_BY_SLACK_USER,
                failure="A Slack member could not be linked to their Linecheck account")
def link_acting_member(job: outbox.Job) -> None:
    slack_user_id = job.payload["slack_user_id"]
    with new_session() as session:
        if session.scalar(select(User.id).where(User.slack_user_id == slack_user_id)):
            return  # linked since it was queued (by an admin, or an earlier run)
    try:
        member = web_client().users_info(user=slack_user_id).get("user") or {}
    except SLACK_FAILURES as exc:
        if error_code(exc) in NOTHING_TO_LINK:
            return
        raise job_failure(exc) from exc
    email = _email_of(member)
    if not email or member.get("is_bot") or member.get("deleted"):
        return
    with new_session() as session:
        auth.link_slack_user_by_email(session=session, slack_user_id=slack_user_id, email=email)
        session.commit()


@outbox.handler(auth.SLACK_LINK_BY_EMAIL,
                failure="An account's email could not be found in Slack")
def find_member_by_email(job: outbox.Job) -> None:
    with new_session() as session:
        user = session.get(User, job.payload["user_id"])
        if user is None or user.slack_user_id is not None:
            return
        email = user.email
    try:
        member = web_client().users_lookupByEmail(email=email).get("user") or {}
    except SLACK_FAILURES as exc:
        if error_code(exc) in NOTHING_TO_LINK:
            raise outbox.Dead(f"Slack knows no member with the email {email} "
                              f"({error_code(exc)})") from exc
        raise job_failure(exc) from exc
    if not member.get("id"):
        raise outbox.Dead(f"Slack answered without a member for {email}")
    with new_session() as session:
        if auth.link_slack_user_by_email(session=session, slack_user_id=member["id"],
                                         email=email) is None:
            raise outbox.Dead(f"{member['id']} is linked to another account already")
        session.commit()
