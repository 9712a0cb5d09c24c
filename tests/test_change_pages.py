"""The changes pages and the admin's attribution rules: every edit classifies all changes
again, and the pages say how each change was classified and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from incidents.change import service as changes
from incidents.change.models import Change, ChangeRule
from incidents.change.sources import ChangeFacts
from tests.change_payloads import sha

CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"


def record(session, name, **facts) -> int:
    fact = ChangeFacts(source="github", repository="acme/checkout", revision=sha(name),
                       number=len(name), title=name,
                       merged_at=datetime(2026, 3, 1, tzinfo=UTC), **facts)
    return changes.apply(session=session, facts=[fact],
                         settings=changes.Settings()).changes[0].id


@pytest.fixture
def three(session):
    ids = {"labelled": record(session, "Labelled", labels=("ai-assisted",)),
           "claude": record(session, "Claude", commit_messages=(f"x\n\n{CLAUDE}",)),
           "plain": record(session, "Plain", labels=("human-written",))}
    session.commit()
    return ids


def origins(session) -> dict[str, str]:
    session.expire_all()
    return {c.title: c.origin for c in session.scalars(select(Change))}


def test_rules_added_moved_and_removed_reclassify_every_change(client, auth, session, three):
    auth.login_as("admin")
    assert origins(session) == {"Labelled": "unknown", "Claude": "ai_assisted",
                                "Plain": "unknown"}
    added = client.post("/admin/change-rules", data={
        "field": "label", "pattern": "AI-*", "origin": "ai_assisted", "note": "team label"},
        follow_redirects=True)
    assert "1 change(s) changed origin" in added.get_data(as_text=True)
    client.post("/admin/change-rules", data={"field": "label", "pattern": "human-written",
                                             "origin": "human"})
    client.post("/admin/change-rules", data={"field": "trailer", "pattern": "*anthropic*",
                                             "origin": "config"})
    assert origins(session) == {"Labelled": "ai_assisted", "Claude": "config", "Plain": "human"}
    last = session.scalar(select(ChangeRule).order_by(ChangeRule.position.desc()))
    client.post(f"/admin/change-rules/{last.id}/remove")
    assert origins(session)["Claude"] == "ai_assisted"
    # Order decides: a later catch-all "human" rule never beats the earlier AI one.
    client.post("/admin/change-rules", data={"field": "repository", "pattern": "acme/*",
                                             "origin": "human"})
    assert origins(session) == {"Labelled": "ai_assisted", "Claude": "unknown",
                                "Plain": "human"}  # Claude: human rule vs its trailer
    catch_all = session.scalar(select(ChangeRule).where(ChangeRule.pattern == "acme/*"))
    client.post(f"/admin/change-rules/{catch_all.id}/move", data={"direction": "up"})
    client.post(f"/admin/change-rules/{catch_all.id}/move", data={"direction": "up"})
    # First now, the catch-all decides human — but the AI label rule still matches: conflicting
    # evidence is unknown, never human.
    assert origins(session)["Labelled"] == "unknown"
    labelled = session.get(Change, three["labelled"])
    assert labelled.origin_reason.startswith("conflicting evidence: rule 1: repository")
    page = client.get("/admin/change-rules").get_data(as_text=True)
    assert "team label" in page and "Claude Code" in page and "cursoragent@cursor.com" in page
    assert page.index("acme/*") < page.index("AI-*")


@pytest.mark.parametrize("data, message", [
    ({"field": "label", "pattern": "*", "origin": "human"}, "besides *"),
    ({"field": "label", "pattern": "", "origin": "human"}, "This field is required"),
    ({"field": "colour", "pattern": "x", "origin": "human"}, "Not a valid choice"),
    ({"field": "label", "pattern": "x", "origin": "unknown"}, "Not a valid choice"),
])
def test_bad_rules_are_refused(client, auth, session, data, message):
    auth.login_as("admin")
    response = client.post("/admin/change-rules", data=data, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(ChangeRule)) is None


def test_moving_or_removing_a_missing_rule_says_so(client, auth):
    auth.login_as("admin")
    page = client.post("/admin/change-rules/9999/remove", follow_redirects=True)
    assert "no rule 9999" in page.get_data(as_text=True)


def test_changes_list_filters_and_the_change_page_explains(client, auth, session, three):
    auth.login_as("viewer")
    page = client.get("/changes?origin=ai_assisted").get_data(as_text=True)
    assert "Claude" in page and "Labelled" not in page
    assert "names Claude Code" in page
    page = client.get(f"/changes/{three['claude']}").get_data(as_text=True)
    assert CLAUDE.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "Every signal seen" in page and "unknown" in page  # approvals not reported
    assert client.get("/changes/999999").status_code == 404
    assert client.get("/changes?origin=robot").status_code == 200


def test_changes_api_lists_and_pages(api_reader, session, three):
    first = api_reader.get("/api/v1/changes?limit=2")
    assert first.status_code == 200
    assert [c["title"] for c in first.json["items"]] == ["Plain", "Claude"]
    # `next` is absolute, under PUBLIC_BASE_URL; the test client takes its path and query.
    rest = api_reader.get(first.json["next"].removeprefix(api_reader.client.application
                                                         .config["PUBLIC_BASE_URL"]))
    assert [c["title"] for c in rest.json["items"]] == ["Labelled"] and rest.json["next"] is None
    one = api_reader.get(f"/api/v1/changes/{three['claude']}").json
    assert one["origin"] == "ai_assisted" and one["trailers"] == [CLAUDE]
    assert one["approvals"] is None and one["deployed_at"] is None
    assert api_reader.get("/api/v1/changes?deployed=true").json["items"] == []
