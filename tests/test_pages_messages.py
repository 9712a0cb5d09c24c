"""Messages in the product's words: confirmations after actions, refusals a reader can act
on, empty tables that say so, and destructive buttons that ask first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incidents.errors import Refused
from incidents.incident.models import Incident
from incidents.line import service as line
from incidents.prevention import service as prevention
from incidents.review import service as reviews
from incidents.templating import code_spans


def test_declaring_noting_and_resolving_each_say_it_was_done(auth, client, session):
    auth.login_as("responder")
    page = client.post("/incidents/new", data={
        "title": "Checkout 500s", "severity": "SEV2", "service": "checkout",
        "detection_method": "alert", "change_origin": "unknown"}, follow_redirects=True)
    incident_id = session.scalar(select(Incident.id))
    assert f"Incident #{incident_id} declared." in page.get_data(as_text=True)
    page = client.post(f"/incidents/{incident_id}/notes", data={"text": "rolled back"},
                       follow_redirects=True)
    assert "Note added to the timeline." in page.get_data(as_text=True)
    page = client.post(f"/incidents/{incident_id}/resolve", data={"summary": "restored"},
                       follow_redirects=True)
    assert f"Incident #{incident_id} resolved." in page.get_data(as_text=True)
    page = client.post(f"/incidents/{incident_id}/notes", data={"text": ""},
                       follow_redirects=True)
    assert 'role="alert">A note needs text.' in page.get_data(as_text=True)


def test_refusals_name_things_as_the_pages_do(session):
    team = "payments"
    advice = prevention.create_item(session=session, title="Remind people to double-check",
                                    kind="advice", owner_team=team)
    fix = prevention.create_item(session=session, title="Patch the parser", kind="local_fix",
                                 owner_team=team)
    assert reviews.weakness(advice).startswith("advice is not structural")
    assert reviews.weakness(fix).startswith("a local fix is not structural")
    loud = prevention.create_item(session=session, title="Alert on 5xx", kind="fail_loudly",
                                  owner_team=team)
    with pytest.raises(Refused) as refused:
        prevention.update(session=session, item=loud, status="done")
    assert "before marking a fail-loudly item done" in refused.value.message
    assert "guard_url" not in refused.value.message and "fail_loudly" not in refused.value.message


def test_the_board_names_the_viewers_team_without_a_broken_possessive(auth, client, session):
    auth.login_as("responder", team="payments")
    html = client.get("/prevention").get_data(as_text=True)
    assert "items of the payments team first" in html and "payments's" not in html


def test_empty_tables_say_they_are_empty(auth, client, session):
    auth.login_as("admin")
    assert "No API tokens yet." in client.get("/admin/tokens").get_data(as_text=True)
    for station in line.stations(session=session):
        line.remove_station(session=session, station_id=station.id)
    session.commit()
    assert "The line has no stations." in client.get("/admin/line").get_data(as_text=True)


def test_destructive_buttons_ask_before_they_post(auth, client, session):
    auth.login_as("admin")
    html = client.get("/admin/line").get_data(as_text=True)
    remove = html[html.index('<details class="confirm">'):]
    remove = remove[:remove.index("</details>")]
    assert "<summary" in remove and "Take it off the line?" in remove
    assert remove.index("<summary") < remove.index('<button class="danger">Yes, remove')
    assert 'class="danger" aria-label="Remove' not in html  # no one-click remove left


def test_backticks_in_descriptions_show_as_code():
    assert str(code_spans("a `hooks` token <b>")) == "a <code>hooks</code> token &lt;b&gt;"
    assert str(code_spans("`a` and `b`")) == "<code>a</code> and <code>b</code>"
    assert str(code_spans("one ` alone")) == "one ` alone"
    assert str(code_spans("`<x>`")) == "<code>&lt;x&gt;</code>"
