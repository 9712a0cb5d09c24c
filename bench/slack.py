"""`/incident note` server-side time against the bare signature-plus-insert route, in-process,
interleaved in the same run."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import statistics
import time
from urllib.parse import urlencode

from bench.bare import create_bare_app
from bench.harness import SLACK_SECRET, Result, fake_slack_api, interleaved, make_app, ms
from bench.harness import percentile as pct
from incidents.appdb import new_session
from incidents.auth import service as auth
from incidents.incident import service as incidents

SLACK_USER = "UBENCHRESP"


def signed(text: str, channel: str = "CBENCHGENERAL") -> tuple[bytes, dict]:
    """A slash command as Slack sends it: form-encoded, signed with v0 HMAC-SHA256."""
    body = urlencode({
        "token": "deprecated", "team_id": "TBENCH", "team_domain": "bench",
        "channel_id": channel, "channel_name": "general", "user_id": SLACK_USER,
        "user_name": "bench.responder", "command": "/incident", "text": text,
        "api_app_id": "ABENCH", "response_url": "http://127.0.0.1:9/commands/response",
        "trigger_id": "1.2.3",
    }).encode()
    timestamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SLACK_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body,
                                 hashlib.sha256).hexdigest()
    return body, {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature,
                  "Content-Type": "application/x-www-form-urlencoded"}


def measure(db, args) -> list[Result]:
    rounds, per_round = (4, 10) if args.quick else (10, 40)
    with fake_slack_api() as slack_api:
        app = make_app(db.url, SLACK_API_URL=slack_api)
        with app.app_context(), new_session() as session:
            user = auth.create_user(session=session, email="bench-slack@bench.test",
                                    password="bench-password-1", role="responder")
            user.slack_user_id = SLACK_USER
            incident = incidents.declare(session=session, title="Bench: checkout errors",
                                         severity="SEV2", service="checkout")
            session.commit()
            incident_id = incident.id
        bare = create_bare_app({"DATABASE_URL": db.url, "SLACK_SIGNING_SECRET": SLACK_SECRET})
        clients = {"app": app.test_client(), "bare": bare.test_client()}
        paths = {"app": "/slack/commands", "bare": "/bare/slack"}
        counter = itertools.count()
        failures: list[str] = []

        def post(side):
            body, headers = signed(f"note #{incident_id} bench note {next(counter)}")
            response = clients[side].post(paths[side], data=body, headers=headers)
            if response.status_code != 200:
                failures.append(f"{side} HTTP {response.status_code}")

        sides = {side: (lambda s=side: post(s)) for side in clients}
        interleaved(sides, 1, 5)  # warm-up
        times = interleaved(sides, rounds, per_round)
        app.extensions["linecheck.engine"].dispose()
        bare.extensions["bench.engine"].dispose()
    median = {s: statistics.median(t) for s, t in times.items()}
    p99 = {s: pct(t, 99) for s, t in times.items()}
    figures = (f"median {ms(median['app'])} vs bare {ms(median['bare'])} "
               f"({median['app'] / median['bare']:.1f}×); p99 {ms(p99['app'])} vs "
               f"{ms(p99['bare'])} ({p99['app'] / p99['bare']:.1f}×); "
               f"{rounds * per_round} each")
    if failures:
        figures += f"; {len(failures)} failed ({failures[0]})"
    met = (median["app"] <= 2 * median["bare"] and p99["app"] <= 3 * p99["bare"]
           and not failures)
    return [Result("/incident note, signed request → response", db.name, figures,
                   "median ≤ 2×, p99 ≤ 3× bare", met)]
