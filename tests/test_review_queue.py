"""The review queue (resolved incidents whose review is owed, oldest first, by team, with the
reviewer) and the incident list's open / resolved tabs with a review column."""

from __future__ import annotations

import re

from incidents.incident import service as incidents
from incidents.review import policy, service, signoff
from tests.test_review_policy import resolved
from tests.test_review_support import make_publishable


def owed_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-testid="owed-(\d+)"', page)]


def test_queue_lists_owed_reviews_oldest_first_without_published_skipped_or_not_required(
        client, auth, session, make_user):
    newest = resolved(session, title="Newest", severity="SEV1", hours_ago=2)
    oldest = resolved(session, title="Oldest", severity="SEV2", hours_ago=50)
    optional = resolved(session, title="Optional one", severity="SEV3", hours_ago=10)
    resolved(session, title="Too small", severity="SEV4", hours_ago=70)
    done = resolved(session, title="Done", severity="SEV1", hours_ago=80)
    make_publishable(session, service.start(session=session, incident_id=done.id))
    service.publish(session=session, review=service.find(session=session, incident_id=done.id))
    skipped = resolved(session, title="Skipped", severity="SEV3", hours_ago=90)
    policy.skip(session=session, review=service.start(session=session, incident_id=skipped.id),
                reason="vendor", actor=make_user("reviewer"))
    incidents.declare(session=session, title="Still open", severity="SEV1")
    session.commit()

    auth.login_as("viewer")
    page = client.get("/reviews/queue").get_data(as_text=True)
    assert owed_ids(page) == [oldest.id, optional.id, newest.id]
    assert "optional" in page and "not started" in page


def test_queue_shows_the_reviewer_and_filters_by_team(client, auth, session, make_user):
    ours = resolved(session, title="Payments outage", severity="SEV1", team="payments")
    theirs = resolved(session, title="Search outage", severity="SEV1", team="search")
    nobody = resolved(session, title="Orphan outage", severity="SEV2", team=None)
    review = service.start(session=session, incident_id=ours.id)
    service.save(session=session, review=review, base_revision=0, markdown="draft")
    service.submit(session=session, review=review)
    signoff.assign(session=session, review=review,
                   reviewer_id=make_user("reviewer", name="Rita Reviewer").id, actor=None)
    session.commit()

    auth.login_as("viewer")
    page = client.get("/reviews/queue").get_data(as_text=True)
    assert "Rita Reviewer" in page and "in review" in page
    assert "payments · 1" in page and "search · 1" in page and "(no team) · 1" in page
    assert owed_ids(client.get("/reviews/queue?team=payments").get_data(as_text=True)) == [
        ours.id]
    assert owed_ids(client.get("/reviews/queue?team=(no team)").get_data(as_text=True)) == [
        nobody.id]
    assert theirs.id not in owed_ids(
        client.get("/reviews/queue?team=payments").get_data(as_text=True))


def test_queue_follows_the_policy(client, auth, session):
    small = resolved(session, title="Small", severity="SEV4")
    auth.login_as("viewer")
    assert owed_ids(client.get("/reviews/queue").get_data(as_text=True)) == []
    policy.save(session=session, requirements={"SEV1": "required", "SEV2": "required",
                                               "SEV3": "optional", "SEV4": "required"},
                require_approval=False)
    session.commit()
    assert owed_ids(client.get("/reviews/queue").get_data(as_text=True)) == [small.id]


def test_incident_list_keeps_open_and_resolved_apart_with_a_review_column(client, auth,
                                                                          session):
    open_one = incidents.declare(session=session, title="Burning now", severity="SEV1")
    session.commit()
    done = resolved(session, title="Put out", severity="SEV2")
    small = resolved(session, title="Tiny blip", severity="SEV4")
    auth.login_as("viewer")

    open_tab = client.get("/incidents").get_data(as_text=True)
    assert "Burning now" in open_tab and "Put out" not in open_tab
    assert 'data-testid="incidents-open"' in open_tab
    cell = re.search(rf'data-testid="review-{open_one.id}">(.*?)</td>', open_tab, re.S).group(1)
    assert "required" in cell

    resolved_tab = client.get("/incidents?show=resolved").get_data(as_text=True)
    assert "Put out" in resolved_tab and "Burning now" not in resolved_tab
    cell = re.search(rf'data-testid="review-{done.id}">(.*?)</td>', resolved_tab, re.S).group(1)
    assert "required, awaiting" in cell and "not started" in cell
    cell = re.search(rf'data-testid="review-{small.id}">(.*?)</td>', resolved_tab,
                     re.S).group(1)
    assert "not required" in cell

    by_status = client.get("/incidents?status=resolved").get_data(as_text=True)
    assert 'data-testid="incidents-resolved"' in by_status and "Put out" in by_status


def test_resolved_tab_pages_keep_the_tab(client, auth, session):
    for n in range(52):
        resolved(session, title=f"Old incident {n}", severity="SEV3")
    auth.login_as("viewer")
    page = client.get("/incidents?show=resolved").get_data(as_text=True)
    assert len(re.findall(r"Old incident \d+", page)) == 50
    older = re.search(r'href="(/incidents\?before=\d+[^"]*)"', page).group(1)
    rest = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r"Old incident (\d+)", rest) == ["1", "0"]
