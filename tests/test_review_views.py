"""The review page through the browser's forms (Flask test client; Chromium tests elsewhere)."""

import re

import pytest

from incidents.line import service as line
from incidents.review import service
from incidents.review.models import Review
from tests.test_review_support import make_incident, make_publishable, structural_item

INJECTION = """# Summary

<script>alert('script')</script>
<img src=x onerror="alert('img')">
[click me](javascript:alert('link'))
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>
<p style="position:fixed;top:0" onmouseover="alert('style')">styled</p>
<svg onload="alert('svg')"></svg><iframe src="https://example.com"></iframe>
"""


@pytest.fixture
def incident(app, session):
    return make_incident(session)


@pytest.fixture
def page_url(incident):
    return f"/incidents/{incident.id}/review"


def _review(session, incident):
    session.expire_all()
    return service.find(session=session, incident_id=incident.id)


def _publish(session, incident):
    review = service.start(session=session, incident_id=incident.id)
    make_publishable(session, review)
    service.publish(session=session, review=review)
    session.commit()
    return review


def test_anonymous_is_sent_to_sign_in(client, page_url):
    response = client.get(page_url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reviewer_opens_the_five_steps_with_times_computed(auth, client, page_url, session,
                                                           incident):
    auth.login_as("reviewer")
    response = client.get(page_url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for step in ("What happened", "Write-up", "Station walk", "Prevention", "Publish"):
        assert step in html
    assert re.search(r'data-testid="time-to-detect">7m 00s<', html)
    assert re.search(r'data-testid="time-to-restore">2h 30m<', html)
    assert "Incident declared" in html  # the timeline
    assert "CI unit tests" in html  # the station walk
    assert "## Summary" in html  # a skeleton to start from


def test_opening_the_review_page_leaves_no_review_row(auth, client, page_url, session,
                                                     incident):
    auth.login_as("reviewer")
    for _ in range(2):
        assert client.get(page_url).status_code == 200
    assert _review(session, incident) is None
    response = client.post(page_url, data={"markdown": "First words.", "defect_class": "",
                                           "revision": "0", "step": "write-up"})
    assert response.status_code == 302
    saved = _review(session, incident)
    assert saved is not None and saved.revision == 1 and saved.markdown == "First words."


def test_unknown_incident_is_404(auth, client):
    auth.login_as("reviewer")
    assert client.get("/incidents/999/review").status_code == 404


def test_viewer_cannot_read_a_draft_but_reads_the_published_review(auth, client, page_url,
                                                                   session, incident):
    auth.login_as("viewer")
    assert client.get(page_url).status_code == 403
    _publish(session, incident)
    response = client.get(page_url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The contract between checkout and the provider was not tested." in html
    assert "No check existed" in html and "Reopen to edit" not in html


def test_responder_cannot_save(auth, client, page_url):
    auth.login_as("responder")
    response = client.post(page_url, data={"markdown": "x", "revision": 0})
    assert response.status_code == 403


def test_save_makes_a_revision_and_returns_to_the_step(auth, client, page_url, session,
                                                       incident):
    auth.login_as("reviewer")
    response = client.post(page_url, data={"markdown": "The check did not run.",
                                           "defect_class": "configuration", "revision": 0,
                                           "step": "station-walk"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#station-walk")
    review = _review(session, incident)
    assert (review.revision, review.markdown, review.defect_class) == (
        1, "The check did not run.", "configuration")


@pytest.mark.parametrize("data", [
    {"markdown": "x"},
    {"markdown": "x", "revision": "abc"},
    {"markdown": "x", "revision": 0, "defect_class": "gremlins"},
])
def test_save_with_bad_input_keeps_the_text_and_says_why(auth, client, page_url, data):
    auth.login_as("reviewer")
    response = client.post(page_url, data=data)
    assert response.status_code == 400
    assert "could not be saved" in response.get_data(as_text=True)


def test_stale_save_keeps_my_text_and_shows_theirs_side_by_side(auth, client, page_url,
                                                                session, incident):
    auth.login_as("reviewer")
    client.get(page_url)
    review = service.start(session=session, incident_id=incident.id)  # their first save
    service.save(session=session, review=review, base_revision=0,
                 markdown="Their paragraph about the alert routing.")
    session.commit()
    response = client.post(page_url, data={"markdown": "My paragraph about the missing test.",
                                           "defect_class": "", "revision": 0})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'data-testid="conflict"' in html
    assert re.search(r'<textarea[^>]*id="markdown"[^>]*>\s*My paragraph about the missing test',
                     html)
    assert "Their paragraph about the alert routing." in html
    assert re.search(r'name="revision" [^>]*type="hidden" value="1"', html)
    assert _review(session, incident).markdown == "Their paragraph about the alert routing."
    merged = client.post(page_url, data={"markdown": "Both paragraphs.", "revision": 1})
    assert merged.status_code == 302
    assert _review(session, incident).markdown == "Both paragraphs."


def test_preview_answers_sanitised_html_and_flags(auth, client, page_url):
    auth.login_as("reviewer")
    client.get(page_url)
    response = client.post(page_url + "/preview",
                           json={"markdown": "**Bold** <script>alert(1)</script> "
                                             "Dana forgot to page payments."})
    assert response.status_code == 200
    assert "<strong>Bold</strong>" in response.json["html"]
    assert "script" not in response.json["html"]
    [flag] = response.json["flags"]
    assert (flag["rule"], flag["phrase"], flag["kept"]) == ("forgot", "Dana forgot to", False)


@pytest.mark.parametrize("body", [{}, {"markdown": 3}, ["x"]])
def test_preview_rejects_bad_input(auth, client, page_url, body):
    auth.login_as("reviewer")
    assert client.post(page_url + "/preview", json=body).status_code == 400


def test_preview_is_for_reviewers(auth, client, page_url):
    auth.login_as("viewer")
    assert client.post(page_url + "/preview", json={"markdown": "x"}).status_code == 403


def test_station_walk_records_and_removes_findings(auth, client, page_url, session, incident):
    auth.login_as("reviewer")
    stations = line.stations(session=session)
    for station in stations[3:5]:
        client.post(page_url + "/findings", data={"station_id": station.id,
                                                   "reason": "not_covered", "note": "gap"})
    client.post(page_url + "/findings", data={"station_id": stations[4].id,
                                               "reason": "flaky", "cheapest": "y"})
    review = _review(session, incident)
    assert [(f.station_id, f.reason, f.cheapest) for f in service.findings(review)] == [
        (stations[3].id, "not_covered", False), (stations[4].id, "flaky", True)]
    client.post(page_url + f"/findings/{stations[3].id}/remove")
    assert [f.station_id for f in _review(session, incident).findings] == [stations[4].id]


@pytest.mark.parametrize("data", [
    {"reason": "no_check"},
    {"station_id": "x", "reason": "no_check"},
    {"station_id": 2**63, "reason": "no_check"},
    {"station_id": 1, "reason": "bad_luck"},
])
def test_station_walk_rejects_bad_input(auth, client, page_url, session, incident, data):
    auth.login_as("reviewer")
    response = client.post(page_url + "/findings", data=data, follow_redirects=True)
    assert "Choose the station" in response.get_data(as_text=True)
    assert _review(session, incident) is None  # nothing saved, not even an empty review


def test_finding_for_unknown_station_is_explained(auth, client, page_url):
    auth.login_as("reviewer")
    response = client.post(page_url + "/findings", data={"station_id": 9999,
                                                          "reason": "no_check"},
                           follow_redirects=True)
    assert "no station 9999" in response.get_data(as_text=True)


def test_removed_station_keeps_its_finding_on_the_review(auth, client, page_url, session,
                                                         incident):
    auth.login_as("reviewer")
    station = line.stations(session=session)[5]
    client.post(page_url + "/findings", data={"station_id": station.id, "reason": "bypassed"})
    line.remove_station(session=session, station_id=station.id)
    session.commit()
    html = client.get(page_url).get_data(as_text=True)
    assert "Findings on stations since removed from the line" in html
    assert station.name in html


def test_publish_refused_in_the_browser_names_each_missing_piece(auth, client, page_url,
                                                                 session, incident):
    auth.login_as("reviewer")
    response = client.post(page_url + "/publish", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "cannot be published yet" in html
    for text in ("station finding", "a defect class", "structural prevention item"):
        assert text in html
    assert _review(session, incident) is None  # refused: nothing written


def test_each_gate_condition_blocks_publishing_in_the_browser(auth, client, page_url,
                                                              session, incident):
    auth.login_as("reviewer")
    client.post(page_url, data={"markdown": "Root cause: human error.", "revision": 0})
    client.post(page_url + "/findings", data={"station_id": line.stations(session=session)[0].id,
                                               "reason": "no_check"})
    assert _missing(session, incident) == ["defect_class", "structural_prevention_item",
                                           "blame_flags"]
    client.post(page_url, data={"markdown": "Root cause: human error.", "revision": 1,
                                "defect_class": "logic"})
    assert _missing(session, incident) == ["structural_prevention_item", "blame_flags"]
    client.post(page_url + "/items/new", data={"title": "Reject string amounts in the schema",
                                               "kind": "eliminate"})
    assert _missing(session, incident) == ["blame_flags"]
    client.post(page_url + "/publish")
    assert _review(session, incident).state == "draft"
    client.post(page_url + "/flags/keep", data={"rule": "human_error", "phrase": "human error",
                                                "reason": "Quoted from the vendor"})
    assert _missing(session, incident) == []
    client.post(page_url + "/publish")
    assert _review(session, incident).state == "published"


def _missing(session, incident):
    return service.missing_for_publish(session=session, review=_review(session, incident))


def test_keep_flag_without_reason_is_refused(auth, client, page_url, session, incident):
    auth.login_as("reviewer")
    client.post(page_url, data={"markdown": "It was careless.", "revision": 0})
    response = client.post(page_url + "/flags/keep", data={"rule": "character",
                                                           "phrase": "careless", "reason": ""},
                           follow_redirects=True)
    assert "Say why" in response.get_data(as_text=True)
    assert _review(session, incident).kept_flags == []


def test_advice_item_is_linked_but_flagged_weak_with_a_nudge(auth, client, page_url, session,
                                                             incident):
    auth.login_as("reviewer")
    response = client.post(page_url + "/items/new", data={
        "title": "Be more careful with payment client upgrades", "kind": "detect",
        "tracker_url": "https://tracker.example.com/PAY-1"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Linked, but weak" in html and "reads as advice" in html
    assert "structural_prevention_item" in _missing(session, incident)


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "", "kind": "detect"}, "Title"),
    ({"title": "x", "kind": "wishful"}, "Kind"),
    ({"title": "x", "kind": "detect", "tracker_url": "not a url"}, "Tracker URL"),
    ({"title": "x", "kind": "detect", "due_date": "tomorrow"}, "Due"),
])
def test_new_item_rejects_bad_input(auth, client, page_url, data, message):
    auth.login_as("reviewer")
    response = client.post(page_url + "/items/new", data=data, follow_redirects=True)
    assert "could not be created" in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)


def test_link_and_unlink_an_existing_item(auth, client, page_url, session, incident):
    auth.login_as("reviewer")
    item = structural_item(session)
    session.commit()
    html = client.get(page_url).get_data(as_text=True)
    assert f'<option value="{item.id}">' in html
    client.post(page_url + "/items/link", data={"item_id": item.id})
    review = _review(session, incident)
    assert [i.id for i in service.prevention_items(session=session, review=review)] == [item.id]
    client.post(page_url + f"/items/{item.id}/unlink")
    assert service.prevention_items(session=session, review=_review(session, incident)) == []
    response = client.post(page_url + "/items/link", data={"item_id": 9999},
                           follow_redirects=True)
    assert "no prevention item 9999" in response.get_data(as_text=True)


def test_reopen_then_publish_checks_the_gate_again(auth, client, page_url, session, incident):
    auth.login_as("reviewer")
    review = _publish(session, incident)
    client.post(page_url + "/reopen")
    item = service.prevention_items(session=session, review=_review(session, incident))[0]
    client.post(page_url + f"/items/{item.id}/unlink")
    response = client.post(page_url + "/publish", follow_redirects=True)
    assert "structural prevention item" in response.get_data(as_text=True)
    assert _review(session, incident).state == "in_review"
    assert review.id == _review(session, incident).id


def test_script_injection_is_sanitised_on_the_published_page(auth, client, page_url, session,
                                                             incident):
    review = service.start(session=session, incident_id=incident.id)
    make_publishable(session, review)
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown=INJECTION)
    service.publish(session=session, review=review)
    session.commit()
    auth.login_as("viewer")
    html = client.get(page_url).get_data(as_text=True)
    body = html.split('data-testid="published-body">')[1].split("</article>")[0]
    for bad in ("<script", "onerror", "onload", "onmouseover", "javascript:", "data:text",
                "style=", "<iframe", "<svg", "<img"):
        assert bad not in body, bad
    assert "styled" in body and "Summary" in body


def test_revision_history_and_diff(auth, client, page_url, session, incident):
    auth.login_as("reviewer")
    client.post(page_url, data={"markdown": "first line", "revision": 0})
    client.post(page_url, data={"markdown": "first line\nsecond line", "revision": 1})
    html = client.get(page_url + "/revisions").get_data(as_text=True)
    assert 'data-testid="revisions"' in html and html.count("chars</td>") == 2
    diff = client.get(page_url + "/revisions/2").get_data(as_text=True)
    assert '<span class="add">+second line</span>' in diff
    assert client.get(page_url + "/revisions/9").status_code == 404


def test_viewer_cannot_read_draft_history(auth, client, page_url, session, incident):
    session.add(Review(incident_id=incident.id, markdown="draft", revision=0, state="draft"))
    session.commit()
    auth.login_as("viewer")
    assert client.get(page_url + "/revisions").status_code == 403


@pytest.mark.csrf
def test_forms_refuse_without_csrf_token(auth, client, page_url, session, incident, make_user):
    user = make_user("reviewer")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery",
                                "csrf_token": token})
    assert client.post(page_url, data={"markdown": "x", "revision": 0}).status_code == 400
    assert client.post(page_url + "/preview", json={"markdown": "x"}).status_code == 400
    html = client.get(page_url).get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    response = client.post(page_url + "/preview", json={"markdown": "x"},
                           headers={"X-CSRFToken": meta})
    assert response.status_code == 200
