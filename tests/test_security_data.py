"""What people may read and change: below reviewer only what was published of a review; only
notes, messages and actions on a timeline may be edited, and the page says who edited."""

from __future__ import annotations

import pytest

from incidents.errors import Refused
from incidents.review import service as reviews
from incidents.timeline import service as timeline
from incidents.timeline.models import EventKind, TimelineEvent
from tests.test_review_support import make_incident, make_publishable

DRAFT_SECRET = "Draft only: Bob pushed it on a Friday"


@pytest.fixture
def published(app, session):
    """A review with a draft revision before its first publication, and another draft before
    its second: revisions 1 draft, 2 (secret) draft, 3 …, then published ones."""
    incident = make_incident(session)
    review = reviews.start(session=session, incident_id=incident.id)
    reviews.save(session=session, review=review, base_revision=review.revision,
                 markdown=DRAFT_SECRET)
    make_publishable(session, review)
    reviews.publish(session=session, review=review)
    first = review.revision
    reviews.reopen(session=session, review=review)
    reviews.save(session=session, review=review, base_revision=review.revision,
                 markdown="Second draft: " + DRAFT_SECRET)
    reviews.save(session=session, review=review, base_revision=review.revision,
                 markdown="The provider changed its contract; nothing tested it.")
    reviews.publish(session=session, review=review)
    session.commit()
    return {"incident": incident, "first": first, "second": review.revision,
            "url": f"/incidents/{incident.id}/review/revisions"}


def _revision_numbers(html: str, url: str) -> list[int]:
    import re

    return sorted(int(n) for n in re.findall(re.escape(url) + r"/(\d+)", html))


def test_a_viewer_sees_only_published_revisions(client, auth, published):
    auth.login_as("viewer")
    listing = client.get(published["url"]).get_data(as_text=True)
    assert _revision_numbers(listing, published["url"]) == [published["first"],
                                                            published["second"]]
    for number in range(1, published["second"]):
        if number != published["first"]:
            assert client.get(f"{published['url']}/{number}").status_code == 404, number


def test_a_viewer_diff_runs_between_publications_never_through_a_draft(client, auth, published):
    auth.login_as("viewer")
    page = client.get(f"{published['url']}/{published['second']}").get_data(as_text=True)
    assert f"revision {published['first']}" in page
    assert "Bob pushed it" not in page
    assert "nothing tested it" in page


def test_a_reviewer_still_reads_every_revision_and_its_diff(client, auth, published):
    auth.login_as("reviewer")
    listing = client.get(published["url"]).get_data(as_text=True)
    assert _revision_numbers(listing, published["url"]) == list(range(1, published["second"]
                                                                      + 1))
    last_draft = published["second"] - 1
    page = client.get(f"{published['url']}/{last_draft}").get_data(as_text=True)
    assert "Bob pushed it" in page  # the draft just before, in the diff


@pytest.fixture
def incident(app, session):
    return make_incident(session)


def _event(session, incident, kind):
    session.expire_all()
    return next(e for e in session.get(type(incident), incident.id).events if e.kind == kind)


@pytest.mark.parametrize("kind", ["status_change", "resolution"])
def test_system_events_cannot_be_edited_in_the_browser(client, auth, session, incident, kind):
    auth.login_as("responder")
    event = _event(session, incident, kind)
    response = client.post(f"/incidents/{incident.id}/events/{event.id}",
                           data={"text": "Nothing happened here"}, follow_redirects=True)
    assert "cannot be edited" in response.get_data(as_text=True)
    assert _event(session, incident, kind).text == event.text
    assert not _event(session, incident, kind).revisions


@pytest.mark.parametrize("kind", [k for k in EventKind if k not in timeline.EDITABLE_KINDS])
def test_the_service_refuses_to_edit_what_the_system_recorded(session, incident, kind):
    event = timeline.add_event(session=session, incident=incident, kind=kind, text="recorded")
    with pytest.raises(Refused):
        timeline.edit_event(session=session, event_id=event.id, text="rewritten")


def test_an_edited_note_keeps_its_author_and_says_who_edited(client, auth, session, incident,
                                                             make_user, api_reader):
    author = make_user("responder", name="Ana Author")
    note = timeline.add_event(session=session, incident=incident, text="Rolled back",
                              author=author)
    session.commit()
    auth.login_as("responder", name="Eve Editor")
    response = client.post(f"/incidents/{incident.id}/events/{note.id}",
                           data={"text": "Rolled back build 4411"})
    assert response.status_code == 302
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    item = page[page.index(f'id="event-{note.id}"'):]
    item = item[:item.index("</li>\n")]
    assert "Ana Author" in item and "by Eve Editor" in item and "Rolled back build 4411" in item
    edit_forms = page.count("Save edit")
    assert edit_forms == sum(1 for e in session.get(type(incident), incident.id).events
                             if e.kind in timeline.EDITABLE_KINDS)
    events = api_reader.get(f"/api/v1/incidents/{incident.id}/timeline").get_json()["items"]
    edited = next(e for e in events if e["id"] == note.id)
    assert edited["author"] == "Ana Author" and edited["edited_by"] == "Eve Editor"
    assert all(e["edited_by"] is None for e in events if e["id"] != note.id)
    session.expire_all()
    assert session.get(TimelineEvent, note.id).edited_by == "Eve Editor"
