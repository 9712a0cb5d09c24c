"""Status and severity changes made in the browser or the API reach the incident's Slack channel."""

from incidents.incident import service
from tests.fake_slack import (  # noqa: F401  (fixtures)
    _fake_slack_fixture,
    _slack_app_config_fixture,
    drain,
)


def _incident_with_channel(session, channel="C-incident-7"):
    incident = service.declare(session=session, title="Queue backlog")
    incident.slack_channel_id = channel
    session.commit()
    return incident


def test_browser_status_change_is_posted_to_the_incident_channel(app, client, auth, session,
                                                                 fake_slack):
    incident = _incident_with_channel(session)
    auth.login_as("responder", name="Rita")
    client.post(f"/incidents/{incident.id}/status", data={"severity": "SEV1",
                                                           "status": "identified"})
    drain(app)
    posted = fake_slack.wait_for("chat.postMessage")[0]
    assert posted["channel"] == "C-incident-7"
    text = posted["text"]
    assert "SEV3" in text and "SEV1" in text and "identified" in text and "Rita" in text


def test_api_resolve_is_posted_with_the_review_link(app, api, session, fake_slack):
    incident = _incident_with_channel(session)
    api.patch(f"/api/v1/incidents/{incident.id}", json={"status": "resolved"})
    drain(app)
    text = fake_slack.wait_for("chat.postMessage")[0]["text"]
    assert "resolved" in text and f"/incidents/{incident.id}/review" in text


def test_note_alone_posts_nothing(app, client, auth, session, fake_slack):
    incident = _incident_with_channel(session)
    auth.login_as("responder")
    client.post(f"/incidents/{incident.id}/notes", data={"text": "looking"})
    assert drain(app) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


def test_paging_tool_resolve_is_posted_to_the_incident_channel(app, client, session, make_token,
                                                              fake_slack):
    from sqlalchemy import select

    from incidents.models import Incident

    headers = {"Authorization": f"Bearer {make_token('hooks')}"}
    opened = client.post("/hooks/generic", headers=headers, json={
        "dedup_key": "db-disk", "status": "trigger", "title": "Primary DB disk 95% full"})
    assert opened.status_code in (200, 201)
    incident = session.scalar(select(Incident).where(Incident.dedup_key == "db-disk"))
    incident.slack_channel_id = "C-db-disk"
    session.commit()
    client.post("/hooks/generic", headers=headers, json={
        "dedup_key": "db-disk", "status": "resolve", "text": "disk cleaned"})
    drain(app)
    posted = fake_slack.wait_for("chat.postMessage")[0]
    assert posted["channel"] == "C-db-disk"
    assert "resolved" in posted["text"] and "Generic JSON" in posted["text"]  # the sender
