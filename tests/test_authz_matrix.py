"""Who may reach what: every route × anonymous, each role, a wrong-scope token, a right one.

The table below is the access policy, written out by hand. A route in the app without a row
fails the test, so whoever adds a route decides (and writes down) who may use it.

Cells: a denial is an exact status (302 to the login page, 401, 403); "ok" means the request
got past authentication and authorisation (any answer but 401/403 or a login redirect: a
validation 400 or an unknown-id 404 still proves the door opened).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import url_for

from incidents import demo
from incidents.auth import service as auth
from incidents.auth.models import Role, User
from incidents.incident import service as incidents
from incidents.review import service as reviews
from tests.helpers import sign_in_directly

ROLES = [r.value for r in Role]
PRINCIPALS = ["anonymous", *ROLES, "wrong_scope_token", "right_token"]
OK = "ok"


@dataclass(frozen=True)
class Policy:
    kind: str  # page | public | api | hook | slack
    role: str | None = None  # pages: the least role
    scope: str | None = None  # api: the scope needed
    public_status: int | None = None  # public routes: what everyone gets

    def expected(self, principal: str) -> int | str:
        if self.kind == "public":
            return self.public_status or OK
        if self.kind == "page":
            if principal in ("anonymous", "wrong_scope_token", "right_token"):
                return 302  # tokens are for machines; the browser needs a session
            return OK if Role(principal).at_least(Role(self.role)) else 403
        if self.kind == "api":
            if principal == "right_token":
                return OK
            return 403 if principal == "wrong_scope_token" else 401  # a session is no token
        if self.kind == "hook":
            if principal == "right_token":
                return OK
            return 403 if principal == "wrong_scope_token" else 401
        if self.kind in ("slack", "signed"):
            return 401  # nobody but a request signed with the sender's secret
        raise AssertionError(self.kind)

    def tokens(self, method: str) -> tuple[str, str]:
        """(right scope, wrong scope) for this route."""
        if self.kind == "hook":
            return "hooks", "api:write"
        if self.scope == "api:write":
            return "api:write", "api:read"
        return "api:read", "hooks"


def page(role: str) -> Policy:
    return Policy("page", role=role)


def public(status: int | None = None) -> Policy:
    return Policy("public", public_status=status)


READ, WRITE = Policy("api", scope="api:read"), Policy("api", scope="api:write")
HOOK, SLACK = Policy("hook"), Policy("slack")
# Signed by the sender's own secret (GitHub, GitLab): no session or token opens them.
SIGNED = Policy("signed")

MATRIX: dict[str, Policy] = {
    # public
    "GET /": public(302),
    "GET /login": public(200),
    "POST /login": public(),
    "POST /logout": public(302),
    "GET /static/<path:filename>": public(200),
    "GET /api/v1/openapi.json": public(200),
    # incidents
    "GET /incidents": page("viewer"),
    "GET /incidents/new": page("responder"),
    "POST /incidents/new": page("responder"),
    "GET /incidents/<int:incident_id>": page("viewer"),
    "POST /incidents/<int:incident_id>/notes": page("responder"),
    "POST /incidents/<int:incident_id>/status": page("responder"),
    "POST /incidents/<int:incident_id>/resolve": page("responder"),
    "POST /incidents/<int:incident_id>/times": page("responder"),
    "POST /incidents/<int:incident_id>/edit": page("responder"),
    "POST /incidents/<int:incident_id>/events/<int:event_id>": page("responder"),
    # review
    # A draft review is for reviewers; once published every role reads it (the review tests
    # cover that). The incident the rows name has a draft.
    "GET /incidents/<int:incident_id>/review": page("reviewer"),
    "POST /incidents/<int:incident_id>/review": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/preview": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/findings": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/findings/<int:station_id>/remove":
        page("reviewer"),
    "POST /incidents/<int:incident_id>/review/flags/keep": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/flags/<int:kept_id>/unkeep": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/items/link": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/items/new": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/items/<int:item_id>/unlink": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/publish": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/reopen": page("reviewer"),
    "GET /incidents/<int:incident_id>/review/revisions": page("reviewer"),
    "GET /incidents/<int:incident_id>/review/revisions/<int:number>": page("reviewer"),
    # review policy, queue and sign-off (approving is for a signed-in reviewer, never a token)
    "POST /incidents/<int:incident_id>/review/skip": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/unskip": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/send": page("reviewer"),
    "POST /incidents/<int:incident_id>/review/approve": page("reviewer"),
    "GET /reviews/queue": page("viewer"),
    "GET /admin/review-policy": page("admin"),
    "POST /admin/review-policy": page("admin"),
    # recurrence, prevention, report
    "GET /incidents/<int:incident_id>/recurrences": page("viewer"),
    "POST /incidents/<int:incident_id>/recurrences": page("reviewer"),
    "POST /incidents/<int:incident_id>/recurrences/dismissals": page("reviewer"),
    "GET /incidents/<int:incident_id>/recurrences/confirm": page("reviewer"),
    "POST /incidents/<int:incident_id>/recurrences/<int:earlier_id>/undo": page("reviewer"),
    "GET /prevention": page("viewer"),
    "POST /prevention": page("responder"),
    "GET /prevention/<int:item_id>": page("viewer"),
    "POST /prevention/<int:item_id>/status": page("responder"),
    "POST /prevention/<int:item_id>/edit": page("responder"),
    "POST /prevention/<int:item_id>/tracker-issue": page("responder"),
    "POST /prevention/<int:item_id>/tracker-link": page("responder"),
    "POST /prevention/<int:item_id>/guard/confirmations": page("responder"),
    "GET /reports/recurrence": page("lead"),
    # changes
    "GET /changes": page("viewer"),
    "GET /changes/<int:change_id>": page("viewer"),
    "POST /incidents/<int:incident_id>/changes": page("reviewer"),
    "GET /admin/change-rules": page("admin"),
    "POST /admin/change-rules": page("admin"),
    "POST /admin/change-rules/<int:rule_id>/move": page("admin"),
    "POST /admin/change-rules/<int:rule_id>/remove": page("admin"),
    # the signed-in user and admin
    "GET /profile": page("viewer"),
    "POST /profile": page("viewer"),
    "POST /profile/password": page("viewer"),
    "GET /admin/users": page("admin"),
    "POST /admin/users": page("admin"),
    "GET /admin/users/<int:user_id>": page("admin"),
    "POST /admin/users/<int:user_id>/role": page("admin"),
    "POST /admin/users/<int:user_id>/deactivate": page("admin"),
    "POST /admin/users/<int:user_id>/activate": page("admin"),
    "POST /admin/users/<int:user_id>/password": page("admin"),
    "POST /admin/users/<int:user_id>/slack": page("admin"),
    "POST /admin/users/<int:user_id>/slack/lookup": page("admin"),
    "GET /admin/tokens": page("admin"),
    "POST /admin/tokens": page("admin"),
    "POST /admin/tokens/<int:token_id>/revoke": page("admin"),
    "GET /admin/line": page("admin"),
    "POST /admin/line/stations": page("admin"),
    "POST /admin/line/stations/<int:station_id>": page("admin"),
    "POST /admin/line/stations/<int:station_id>/move": page("admin"),
    "POST /admin/line/stations/<int:station_id>/remove": page("admin"),
    "POST /admin/line/stations/<int:station_id>/restore": page("admin"),
    "GET /admin/paging": page("admin"),
    "POST /admin/paging/<sender>": page("admin"),
    "POST /admin/paging/<sender>/test": page("admin"),
    "GET /admin/outbox": page("admin"),
    "POST /admin/outbox/<int:job_id>/retry": page("admin"),
    "POST /admin/outbox/<int:job_id>/discard": page("admin"),
    "GET /admin/trackers": page("admin"),
    "POST /admin/trackers": page("admin"),
    "POST /admin/trackers/<int:team_id>/remove": page("admin"),
    "GET /admin/guards": page("admin"),
    "GET /admin/teams": page("admin"),
    "POST /admin/teams": page("admin"),
    "GET /admin/teams/<int:team_id>": page("admin"),
    "POST /admin/teams/<int:team_id>/rename": page("admin"),
    "POST /admin/teams/<int:team_id>/channel": page("admin"),
    "POST /admin/teams/<int:team_id>/members": page("admin"),
    "POST /admin/teams/<int:team_id>/members/<int:user_id>/remove": page("admin"),
    "POST /admin/teams/<int:team_id>/merge": page("admin"),
    "POST /admin/guards": page("admin"),
    # JSON API
    "GET /api/v1/incidents": READ,
    "POST /api/v1/incidents": WRITE,
    "GET /api/v1/incidents/<int:incident_id>": READ,
    "PATCH /api/v1/incidents/<int:incident_id>": WRITE,
    "GET /api/v1/incidents/<int:incident_id>/timeline": READ,
    "POST /api/v1/incidents/<int:incident_id>/timeline": WRITE,
    "GET /api/v1/stations": READ,
    "GET /api/v1/incidents/<int:incident_id>/review": READ,
    "PUT /api/v1/incidents/<int:incident_id>/review": WRITE,
    "GET /api/v1/incidents/<int:incident_id>/review/revisions": READ,
    "POST /api/v1/incidents/<int:incident_id>/review/findings": WRITE,
    "DELETE /api/v1/incidents/<int:incident_id>/review/findings/<int:station_id>": WRITE,
    "POST /api/v1/incidents/<int:incident_id>/review/kept-flags": WRITE,
    "POST /api/v1/incidents/<int:incident_id>/review/prevention-items": WRITE,
    "POST /api/v1/incidents/<int:incident_id>/review/publish": WRITE,
    "POST /api/v1/incidents/<int:incident_id>/review/reopen": WRITE,
    "POST /api/v1/blame-check": READ,
    "GET /api/v1/prevention-items": READ,
    "POST /api/v1/prevention-items": WRITE,
    "GET /api/v1/prevention-items/<int:item_id>": READ,
    "PATCH /api/v1/prevention-items/<int:item_id>": WRITE,
    "POST /api/v1/prevention-items/<int:item_id>/tracker-issue": WRITE,
    "POST /api/v1/prevention-items/<int:item_id>/tracker-link": WRITE,
    "GET /api/v1/incidents/<int:incident_id>/recurrence-candidates": READ,
    "POST /api/v1/incidents/<int:incident_id>/recurrence-candidates/dismissals": WRITE,
    "GET /api/v1/incidents/<int:incident_id>/recurrences": READ,
    "POST /api/v1/incidents/<int:incident_id>/recurrences": WRITE,
    "DELETE /api/v1/incidents/<int:incident_id>/recurrences/<int:earlier_id>": WRITE,
    "GET /api/v1/reports/recurrence": READ,
    "GET /api/v1/changes": READ,
    "GET /api/v1/changes/<int:change_id>": READ,
    "GET /api/v1/incidents/<int:incident_id>/suspect-changes": READ,
    "GET /api/v1/incidents/<int:incident_id>/changes": READ,
    "POST /api/v1/incidents/<int:incident_id>/changes": WRITE,
    # paging-tool hooks and Slack
    "POST /hooks/generic": HOOK,
    "POST /hooks/alertmanager": HOOK,
    "POST /hooks/grafana": HOOK,
    "POST /hooks/opsgenie": HOOK,
    "POST /hooks/pagerduty": HOOK,
    "POST /hooks/ci": HOOK,
    "POST /hooks/changes": HOOK,
    "POST /hooks/github": SIGNED,
    "POST /hooks/gitlab": SIGNED,
    "POST /hooks/jira": SIGNED,
    "POST /hooks/linear": SIGNED,
    "POST /slack/commands": SLACK,
    "POST /slack/interactions": SLACK,
    "POST /slack/events": SLACK,
}


def routes(app) -> dict[str, object]:
    found = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found[f"{method} {rule.rule}"] = rule
    return found


def test_every_route_has_a_row_in_the_matrix(app):
    present = set(routes(app))
    missing = sorted(present - set(MATRIX))
    stale = sorted(set(MATRIX) - present)
    assert not missing, "routes without an access row (add them to MATRIX):\n" + "\n".join(
        missing)
    assert not stale, "rows for routes that no longer exist:\n" + "\n".join(stale)


@pytest.fixture
def world(app, session):
    """Demo data, plus throwaway rows at id 1 for the admin routes that change them."""
    throwaway_token, _ = auth.create_token(session=session, name="throwaway", scopes=["hooks"])
    auth.create_user(session=session, email="throwaway@example.com", password="x" * 12)
    demo.load(session=session)
    # The incident every row names: open, with a draft review (a state the policy pins down).
    incident = incidents.declare(session=session, title="Matrix incident", severity="SEV2")
    review = reviews.start(session=session, incident_id=incident.id)
    reviews.save(session=session, review=review, base_revision=review.revision,
                 markdown="Draft write-up")
    session.commit()
    return {"incident_id": incident.id, "event_id": incident.events[0].id, "station_id": 1,
            "item_id": 1, "kept_id": 1, "number": 1, "token_id": throwaway_token.id,
            "user_id": 2, "team_id": 1, "sender": "generic", "filename": "linecheck.css",
            "job_id": 1, "change_id": 1, "rule_id": 1, "earlier_id": 1}


def _outcome(response) -> int | str:
    status = response.status_code
    if status in (401, 403):
        return status
    if status == 302 and "/login" in response.headers.get("Location", ""):
        return 302
    return OK


def test_access_matrix(app, session, world, make_user, make_token):
    users = {role: make_user(role) for role in ROLES}
    tokens = {scope: make_token(scope) for scope in ("api:read", "api:write", "hooks")}
    mismatches = []
    for key, rule in sorted(routes(app).items()):
        method, _ = key.split(" ", 1)
        policy = MATRIX[key]
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: world[a] for a in rule.arguments})
        right, wrong = policy.tokens(method)
        for principal in PRINCIPALS:
            client = app.test_client()
            headers = {}
            if principal in ROLES:
                # Read afresh: signing out (a route here) moves the user's session version on.
                session.expire_all()
                sign_in_directly(client, session.get(User, users[principal].id))
            elif principal == "wrong_scope_token":
                headers["Authorization"] = f"Bearer {tokens[wrong]}"
            elif principal == "right_token":
                headers["Authorization"] = f"Bearer {tokens[right]}"
            response = client.open(url, method=method, headers=headers, json={})
            response.close()  # static files hold an open file until closed
            expected = policy.expected(principal)
            got = response.status_code if policy.kind == "public" and expected != OK else (
                _outcome(response))
            if got != expected:
                mismatches.append(f"{key:<75} {principal:<18} expected {expected}, got "
                                  f"{response.status_code}")
            assert response.status_code < 500, f"{key} as {principal}: 5xx"
    assert not mismatches, "\n" + "\n".join(mismatches)
