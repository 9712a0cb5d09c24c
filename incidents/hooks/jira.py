"""`POST /hooks/jira`: Jira Cloud webhooks for tracker sync.

A Jira admin webhook with a secret signs each delivery as `X-Hub-Signature: sha256=<HMAC-SHA256
of the raw body>` (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks;
secret in `JIRA_WEBHOOK_SECRET`, `old,new` during a rotation). `X-Atlassian-Webhook-Identifier`
names the delivery and stays the same when Jira retries it; without it the body's SHA-256 does.
`jira:issue_created`, `jira:issue_updated` and `jira:issue_deleted` feed tracker sync; other
events answer 202.
"""

from __future__ import annotations

from flask import request

from incidents.hooks import receive
from incidents.hooks.webhooks import blp, deliver, document
from incidents.inbox import service as inbox
from incidents.tracker.hooks import jira_issues

SENDER = "jira"


def receive_jira():
    raw = receive.raw_body()
    receive.verify_hmac(raw, setting="JIRA_WEBHOOK_SECRET", header="X-Hub-Signature",
                        prefix="sha256=", sender="Jira")
    body = receive.json_object(raw)
    key = request.headers.get("X-Atlassian-Webhook-Identifier", "").strip() \
        or inbox.body_key(raw)
    return deliver(sender=SENDER, key=key, body=body, consumer=jira_issues)


blp.route("/jira", methods=["POST"], endpoint="jira")(document(
    receive_jira, sender=SENDER, summary="Jira hook",
    doc="Jira Cloud issue webhooks (`jira:issue_created`, `jira:issue_updated`, "
        "`jira:issue_deleted`) for tracker sync, signed with `X-Hub-Signature` under "
        "JIRA_WEBHOOK_SECRET. Other events answer 202."))
