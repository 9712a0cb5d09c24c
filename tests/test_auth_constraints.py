"""Teams (by their normalised key) and users are unique by database constraints, not by a
look-up first: two requests racing to create the same one both get an answer, never a 500."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from incidents.appdb import new_session
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.errors import Conflict, InvalidInput
from incidents.incident import service as incidents
from incidents.incident.models import Incident
from incidents.team import service as teams


def race(app, work, n=2) -> list[BaseException | None]:
    """Run `work(session, i)` in `n` threads that start together; return each one's error."""
    barrier = threading.Barrier(n)
    errors: list[BaseException | None] = [None] * n

    def run(i):
        try:
            with app.app_context(), new_session() as session:
                barrier.wait()
                work(session, i)
                session.commit()
        except BaseException as exc:  # returned to the test
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_two_concurrent_creations_of_one_team_spelt_two_ways_give_one_team_and_a_conflict(
        app, session):
    spellings = ["Brand New Team", "brand  new team"]
    before = session.scalar(select(func.count()).select_from(Team))
    errors = race(app, lambda db, i: teams.create_team(session=db, name=spellings[i]))
    assert sorted(type(e).__name__ for e in errors if e) == ["Conflict"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Team)) == before + 1
    assert session.scalar(select(Team.name).where(Team.key == "brand new team")) in (
        "Brand New Team", "brand new team")  # the name as the winner spelt it, spaces tidied


def test_naming_an_unknown_team_creates_nothing_and_says_which_teams_there_are(app, session):
    with pytest.raises(InvalidInput) as refused:
        incidents.declare(session=session, title="typo", team="paymnets")
    assert "'paymnets'" in refused.value.message and "payments" in refused.value.message
    assert "flask teams create" in refused.value.message
    session.rollback()
    assert session.scalar(select(Team).where(Team.key == "paymnets")) is None
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_team_named_in_another_case_or_spacing_is_the_same_team(session):
    incident = incidents.declare(session=session, title="case", team="  PAYMENTS ")
    assert incident.team.name == "payments"


def test_two_concurrent_creations_of_one_user_give_one_user_and_one_conflict(app, session):
    errors = race(app, lambda db, i: auth.create_user(
        session=db, email="Racing@Example.com", password="long-enough-1", team="payments"))
    assert sorted(type(e).__name__ for e in errors if e) == ["Conflict"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_creating_a_taken_email_is_a_conflict(session, make_user):
    make_user("viewer", email="taken@example.com")
    with pytest.raises(Conflict):
        auth.create_user(session=session, email="TAKEN@example.com", password="long-enough-1")
