"""Naming a prevention item's guard, confirming manual guards, and each team's N."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.auth.models import Team, User
from incidents.db import utcnow
from incidents.errors import InvalidInput, Refused, parse_choice
from incidents.guard import urls
from incidents.guard.models import (
    DEFAULT_CONFIRM_EVERY_DAYS,
    DEFAULT_STALE_AFTER_DAYS,
    MAX_BRANCH,
    MAX_NAME,
    MAX_TEST_ID,
    Guard,
    GuardConfirmation,
    GuardRun,
    GuardSettings,
    Provider,
)
from incidents.prevention.models import PreventionItem

MAX_URL = 2000
MAX_DAYS = 365
MAX_NOTE = 5000


def _text(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be text")
    return value.replace("\x00", "").strip() or None


@dataclass(frozen=True)
class GuardSpec:
    """A guard as given (browser form, API, a parsed link), validated."""

    provider: Provider
    repository: str | None = None
    name: str | None = None
    test_id: str | None = None
    branch: str | None = None
    url: str | None = None


def spec(*, provider, repository=None, name=None, test_id=None, branch=None,
         url=None) -> GuardSpec:
    """Validate a guard's fields: an automatic guard names a repository and a check."""
    provider = parse_choice(Provider, provider, "guard.provider")
    fields = {"repository": (repository, MAX_NAME), "name": (name, MAX_NAME),
              "test_id": (test_id, MAX_TEST_ID), "branch": (branch, MAX_BRANCH),
              "url": (url, MAX_URL)}
    clean: dict[str, str | None] = {}
    for field, (value, limit) in fields.items():
        try:
            clean[field] = _text(value)
        except InvalidInput:
            raise InvalidInput(f"guard.{field} must be text", field=f"guard.{field}") from None
        if clean[field] is not None and len(clean[field]) > limit:
            raise InvalidInput(f"guard.{field} is longer than {limit} characters",
                               field=f"guard.{field}")
    if clean["url"] is not None and not clean["url"].startswith(("https://", "http://")):
        raise InvalidInput("guard.url must be an http(s) URL", field="guard.url")
    if provider == Provider.MANUAL:
        if clean["test_id"] or clean["branch"] or clean["repository"]:
            raise InvalidInput("a manual guard has no repository, branch or test id; name what "
                               "to confirm and link it", field="guard.provider")
        if not (clean["name"] or clean["url"]):
            raise InvalidInput("a manual guard needs a name or a url: what a person confirms",
                               field="guard.name")
        return GuardSpec(provider, name=clean["name"], url=clean["url"])
    for field, what in (("repository", "repository"), ("name", "check, job or workflow name")):
        if not clean[field]:
            raise InvalidInput(f"a {provider.value} guard needs guard.{field}: the {what} "
                               "whose runs prove it", field=f"guard.{field}")
    return GuardSpec(provider, repository=clean["repository"].lower(), name=clean["name"],
                     test_id=clean["test_id"], branch=clean["branch"], url=clean["url"])


def spec_from_url(*, session: Session, url, field: str = "guard_url") -> GuardSpec:
    """The guard a pasted link names: GitHub/GitLab links are read into repository and check
    (a link to one run takes the check's name and branch from that run, if Linecheck received
    it); anything else is a manual guard, confirmed by a person."""
    link = _text(url) if isinstance(url, str) else None
    if not link or not link.startswith(("https://", "http://")) or len(link) > MAX_URL:
        raise InvalidInput(f"{field} must be an http(s) URL of at most {MAX_URL} characters",
                           field=field)
    checked = GuardSpec(Provider.MANUAL, url=link)
    parsed = urls.parse(checked.url)
    if parsed is None:
        return checked
    if parsed.name is not None:
        return spec(provider=parsed.provider, repository=parsed.repository, name=parsed.name,
                    url=checked.url)
    run = session.scalar(
        select(GuardRun).where(GuardRun.source == parsed.provider.value,
                               GuardRun.repository == parsed.repository,
                               GuardRun.kind == parsed.run_kind,
                               GuardRun.external_id == parsed.run_id)
        .order_by(GuardRun.completed_at.desc()).limit(1))
    if run is None:
        return checked
    return spec(provider=parsed.provider, repository=run.repository, name=run.name,
                branch=None if run.on_default_branch else run.branch, url=checked.url)


def set_guard(*, session: Session, item: PreventionItem, given: GuardSpec | None) -> bool:
    """Give the item this guard (None removes it); False when nothing changed."""
    current = item.guard
    if given is None:
        if current is None:
            return False
        item.guard = None
        session.flush()
        return True
    fields = {"provider": given.provider, "repository": given.repository, "name": given.name,
              "test_id": given.test_id, "branch": given.branch, "url": given.url}
    if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
        return False
    if current is None:
        item.guard = Guard(**fields)
    else:
        for key, value in fields.items():
            setattr(current, key, value)
        # Another check: what the team was told about the old one no longer applies.
        current.announced_health = None
    session.flush()
    return True


def confirm(*, session: Session, item: PreventionItem, in_place: bool, note: str = "",
            actor: User | None = None, actor_label: str = "",
            now: datetime | None = None) -> GuardConfirmation:
    """A person says the item's manual guard is (or is no longer) in place."""
    guard = item.guard
    if guard is None or guard.automatic:
        raise Refused("only a manual guard is confirmed by hand; CI runs prove the others",
                      field="guard")
    note = _text(note) or ""
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note is longer than {MAX_NOTE} characters", field="note")
    confirmation = GuardConfirmation(
        guard_id=guard.id, confirmed_at=now or utcnow(), in_place=in_place, note=note,
        user_id=actor.id if actor else None,
        actor_label=actor_label or (actor.display_name if actor else ""))
    session.add(confirmation)
    session.flush()
    return confirmation


def confirmations(*, session: Session, guard: Guard, limit: int = 10) -> list[GuardConfirmation]:
    return list(session.scalars(
        select(GuardConfirmation).where(GuardConfirmation.guard_id == guard.id)
        .order_by(GuardConfirmation.confirmed_at.desc(), GuardConfirmation.id.desc())
        .limit(limit)))


def recent_runs(*, session: Session, guard: Guard, limit: int = 10) -> list[GuardRun]:
    """The latest runs of the guard's check on any branch, newest first (what the item page
    lists: runs on other branches show, but only its branch counts)."""
    if not guard.automatic:
        return []
    name_matches = (GuardRun.name == guard.name) | (GuardRun.path == guard.name)
    return list(session.scalars(
        select(GuardRun).where(GuardRun.repository == guard.repository, name_matches)
        .order_by(GuardRun.completed_at.desc(), GuardRun.id.desc()).limit(limit)))


# --- each team's N ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TeamDays:
    team: str
    stale_after_days: int
    confirm_every_days: int
    own: bool  # set by the team, not the default


def team_days(*, session: Session) -> list[TeamDays]:
    rows = session.execute(
        select(Team.name, GuardSettings.stale_after_days, GuardSettings.confirm_every_days)
        .outerjoin(GuardSettings, GuardSettings.team_id == Team.id).order_by(Team.name))
    return [TeamDays(name, stale or DEFAULT_STALE_AFTER_DAYS,
                     confirm or DEFAULT_CONFIRM_EVERY_DAYS, stale is not None)
            for name, stale, confirm in rows]


def _days(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidInput(f"{field} must be a whole number of days from 1 to {MAX_DAYS}",
                           field=field)
    return value


def set_team_days(*, session: Session, team: str, stale_after_days, confirm_every_days) -> None:
    """Set a team's N (days without a passing run, days between confirmations)."""
    found = session.scalar(select(Team).where(Team.name == (_text(team) or "")))
    if found is None:
        raise InvalidInput(f"no team named {team!r}", field="team")
    settings = session.get(GuardSettings, found.id) or GuardSettings(team_id=found.id)
    settings.stale_after_days = _days(stale_after_days, "stale_after_days")
    settings.confirm_every_days = _days(confirm_every_days, "confirm_every_days")
    session.add(settings)
    session.flush()
