"""Owner teams: named, renamed and merged by admins, never made by naming one elsewhere."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth.models import Team, User, team_key
from incidents.errors import Conflict, InvalidInput, NotFound
from incidents.guard.models import GuardSettings
from incidents.hooks.models import SenderSettings
from incidents.incident.models import Incident
from incidents.prevention.models import PreventionItem
from incidents.tracker.models import Tracker

MAX_NAME_LENGTH = 100
HOW_TO_ADD = "an admin adds teams at /admin/teams or with `flask teams create NAME`"
# Slack channel ids: C… public, G… private (older), upper-case letters and digits.
CHANNEL_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def teams(*, session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.key)))


def team_named(*, session: Session, name: str | None, field: str = "team") -> Team | None:
    """The team with this name (case and spacing aside); None for no name; InvalidInput naming
    the known teams for a name that is none of theirs."""
    if name is None or not name.strip():
        return None
    team = session.scalar(select(Team).where(Team.key == team_key(name)))
    if team is None:
        known = ", ".join(t.name for t in teams(session=session)) or "none yet"
        raise InvalidInput(f"there is no team {name.strip()!r} (teams: {known}; {HOW_TO_ADD})",
                           field=field)
    return team


def team_by_id(*, session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    return team


def _clean_name(name: str) -> str:
    name = " ".join((name or "").replace("\x00", "").split())
    if not name:
        raise InvalidInput("a team needs a name", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"team names are at most {MAX_NAME_LENGTH} characters", field="name")
    return name


def _taken(session: Session, name: str, but: Team | None = None) -> None:
    other = session.scalar(select(Team).where(Team.key == team_key(name)))
    if other is not None and other is not but:
        raise Conflict(f"there is a team {other.name!r} already", field="name")


def create_team(*, session: Session, name: str, slack_channel_id: str | None = None,
                actor: User | None = None) -> Team:
    name = _clean_name(name)
    _taken(session, name)
    team = Team(name=name, slack_channel_id=_channel(slack_channel_id))
    try:
        # The unique key decides between two admins creating "Payments" and "payments" at once.
        with session.begin_nested():
            session.add(team)
    except IntegrityError:
        raise Conflict(f"there is a team {name!r} already", field="name") from None
    audit.record(session=session, action="team.created", entity_type="team", entity_id=team.id,
                 actor=actor, name=name)
    return team


def _rename_in_mappings(session: Session, old: str, new: str) -> None:
    """Paging tools map services to team names: keep those pointing at the team."""
    for settings in session.scalars(select(SenderSettings)):
        mapping = settings.service_teams or {}
        if old in mapping.values():
            settings.service_teams = {service: new if team == old else team
                                      for service, team in mapping.items()}


def rename_team(*, session: Session, team: Team, name: str, actor: User | None = None) -> Team:
    name = _clean_name(name)
    _taken(session, name, but=team)
    old = team.name
    if old == name:
        return team
    team.name = name
    _rename_in_mappings(session, old, name)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"there is a team {name!r} already", field="name") from None
    audit.record(session=session, action="team.renamed", entity_type="team", entity_id=team.id,
                 actor=actor, old=old, new=name)
    return team


def _channel(channel_id: str | None) -> str | None:
    channel_id = (channel_id or "").strip().lstrip("#")
    if not channel_id:
        return None
    if len(channel_id) > 40 or not set(channel_id) <= CHANNEL_ID_CHARS:
        raise InvalidInput("a Slack channel id looks like C0123ABCD (in Slack: the channel's "
                           "details, at the bottom), not a #name", field="slack_channel_id")
    return channel_id


def set_channel(*, session: Session, team: Team, slack_channel_id: str | None,
                actor: User | None = None) -> Team:
    """Set (or clear, with None) the Slack channel the team's reminders and notices go to."""
    old, team.slack_channel_id = team.slack_channel_id, _channel(slack_channel_id)
    session.flush()
    audit.record(session=session, action="team.channel_set", entity_type="team",
                 entity_id=team.id, actor=actor, old=old or "", new=team.slack_channel_id or "")
    return team


def set_member(*, session: Session, user: User, team: Team | None,
               actor: User | None = None) -> None:
    """Make the user a member of this team (a user is in one team at most), or of none."""
    old = user.team.name if user.team else ""
    user.team = team
    session.flush()
    audit.record(session=session, action="team.member_set", entity_type="user",
                 entity_id=user.id, actor=actor, old=old, new=team.name if team else "")


def members(*, session: Session, team: Team) -> list[User]:
    return list(session.scalars(select(User).where(User.team_id == team.id).order_by(User.email)))


def counts(*, session: Session) -> dict[int, dict[str, int]]:
    """Per team id: its incidents, prevention items and members."""
    found: dict[int, dict[str, int]] = {}
    for label, column in (("incidents", Incident.team_id),
                          ("items", PreventionItem.owner_team_id), ("members", User.team_id)):
        for team_id, count in session.execute(
                select(column, func.count()).where(column.is_not(None)).group_by(column)):
            found.setdefault(team_id, {"incidents": 0, "items": 0, "members": 0})[label] = count
    return found


def merge_teams(*, session: Session, source: Team, into: Team,
                actor: User | None = None) -> Team:
    """Move the source team's incidents, prevention items and members to `into`, then delete
    the source. Its tracker, guard days and channel carry over where `into` has none."""
    if source.id == into.id:
        raise InvalidInput("a team cannot be merged into itself", field="into")
    moved = {}
    for label, table, column in (("incidents", Incident, Incident.team_id),
                                 ("items", PreventionItem, PreventionItem.owner_team_id),
                                 ("members", User, User.team_id),
                                 ("paging_defaults", SenderSettings,
                                  SenderSettings.default_team_id)):
        result = session.execute(update(table).where(column == source.id)
                                 .values({column.key: into.id}),
                                 execution_options={"synchronize_session": "fetch"})
        moved[label] = result.rowcount
    for table in (Tracker, GuardSettings):
        theirs = session.scalar(select(table).where(table.team_id == source.id))
        if theirs is None:
            continue
        if session.scalar(select(table).where(table.team_id == into.id)) is None:
            theirs.team_id = into.id
        else:
            session.delete(theirs)
    if not into.slack_channel_id:
        into.slack_channel_id = source.slack_channel_id
    _rename_in_mappings(session, source.name, into.name)
    session.flush()
    audit.record(session=session, action="team.merged", entity_type="team", entity_id=into.id,
                 actor=actor, merged=source.name, merged_id=source.id, into=into.name, **moved)
    session.delete(source)
    session.flush()
    return into
