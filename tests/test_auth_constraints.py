"""Teams and users are unique by database constraints, not by a look-up first: two requests
racing to create the same one both get an answer, never a 500."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from incidents.appdb import new_session
from incidents.auth import service as auth
from incidents.auth.models import Team, User
from incidents.errors import Conflict
from incidents.incident import service as incidents
from incidents.incident.models import Incident


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


def test_two_concurrent_declares_naming_a_new_team_share_it(app, session):
    errors = race(app, lambda db, i: incidents.declare(session=db, title=f"race {i}",
                                                       team="brand-new-team"))
    assert errors == [None, None]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Team)) == 1
    teams = set(session.scalars(select(Incident.team_id)))
    assert len(teams) == 1 and None not in teams


def test_two_concurrent_creations_of_one_user_give_one_user_and_one_conflict(app, session):
    errors = race(app, lambda db, i: auth.create_user(
        session=db, email="Racing@Example.com", password="long-enough-1", team="new-team"))
    assert sorted(type(e).__name__ for e in errors if e) == ["Conflict"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_creating_a_taken_email_is_a_conflict(session, make_user):
    make_user("viewer", email="taken@example.com")
    with pytest.raises(Conflict):
        auth.create_user(session=session, email="TAKEN@example.com", password="long-enough-1")
