"""Vendor-format payloads for the hook tests, shaped after each vendor's documentation examples,
and a small client that posts them."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

from sqlalchemy import func, select

from incidents.inbox.models import Delivery
from incidents.incident.models import Incident
from incidents.timeline.models import TimelineEvent

PD_SECRET = "pd-test-secret"  # the app_config fixture's PAGERDUTY_WEBHOOK_SECRET


class HookClient:
    """Posts raw JSON bodies to /hooks/<tool> with a `hooks` bearer token by default."""

    def __init__(self, client, token):
        self.client = client
        self.token = token

    def post(self, tool, body, *, token=..., headers=None, raw=None):
        data = raw if raw is not None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        token = self.token if token is ... else token
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return self.client.post(f"/hooks/{tool}", data=data, headers=sent)


def counts(session) -> tuple[int, int, int]:
    """(incidents, timeline events, deliveries) as the database holds them now."""
    session.rollback()  # read what the app committed, not a stale snapshot
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Incident, TimelineEvent, Delivery)
    )


def incidents(session) -> list[Incident]:
    session.rollback()
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def timeline(session, incident_id) -> list[TimelineEvent]:
    session.rollback()
    return list(session.scalars(
        select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
        .order_by(TimelineEvent.id)))


# --- PagerDuty Webhooks v3 (developer.pagerduty.com, "Webhook Payload" examples) ---------------

PD_INCIDENT = {
    "id": "PGR0VU2",
    "type": "incident",
    "self": "https://api.pagerduty.com/incidents/PGR0VU2",
    "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
    "number": 2,
    "status": "triggered",
    "incident_key": "d3640fbd41094207a1c11e58e46b1662",
    "created_at": "2020-04-09T15:16:27Z",
    "title": "A little bump in the road",
    "service": {
        "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
        "id": "PF9KMXH",
        "self": "https://api.pagerduty.com/services/PF9KMXH",
        "summary": "API Service",
        "type": "service_reference",
    },
    "assignees": [{
        "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
        "id": "PTUXL6G",
        "self": "https://api.pagerduty.com/users/PTUXL6G",
        "summary": "User 123",
        "type": "user_reference",
    }],
    "escalation_policy": {
        "html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
        "id": "PUS0KTE",
        "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
        "summary": "Default",
        "type": "escalation_policy_reference",
    },
    "teams": [{
        "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
        "id": "PFCVPS0",
        "self": "https://api.pagerduty.com/teams/PFCVPS0",
        "summary": "Engineering",
        "type": "team_reference",
    }],
    "priority": {
        "html_url": "https://acme.pagerduty.com/account/incident_priorities",
        "id": "PSO75BM",
        "self": "https://api.pagerduty.com/priorities/PSO75BM",
        "summary": "P1",
        "type": "priority_reference",
    },
    "urgency": "high",
    "conference_bridge": {"conference_number": "+1 1234123412,,987654321#",
                          "conference_url": "https://example.com"},
    "resolve_reason": None,
}

PD_NOTE = {
    "incident": {
        "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
        "id": "PGR0VU2",
        "self": "https://api.pagerduty.com/incidents/PGR0VU2",
        "summary": "A little bump in the road",
        "type": "incident_reference",
    },
    "id": "P2LA89X",
    "content": "I sure am glad we are using PagerDuty!",
    "trimmed": False,
    "type": "incident_note",
}


def pd_event(event_type, *, event_id, occurred_at="2020-10-02T18:45:22.169Z", data=None,
             **incident_changes):
    """A v3 webhook payload: {"event": {...}} around an incident (or the given data)."""
    if data is None:
        data = copy.deepcopy(PD_INCIDENT)
        data.update(incident_changes)
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": occurred_at,
            "agent": {
                "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
                "id": "PLH1HKV",
                "self": "https://api.pagerduty.com/users/PLH1HKV",
                "summary": "Tenex Engineer",
                "type": "user_reference",
            },
            "client": {"name": "PagerDuty"},
            "data": data,
        }
    }


def pd_signature(raw: bytes, *secrets: str) -> str:
    """The X-PagerDuty-Signature header: one v1= HMAC-SHA256 per secret, comma-separated."""
    return ",".join(
        "v1=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest() for secret in secrets
    )


def pd_post(hooks, body, *secrets):
    """Post a PagerDuty event signed the way PagerDuty signs it (no token)."""
    raw = json.dumps(body).encode()
    signature = pd_signature(raw, *(secrets or (PD_SECRET,)))
    return hooks.post("pagerduty", None, raw=raw, token=None,
                      headers={"X-PagerDuty-Signature": signature})


# --- Prometheus Alertmanager webhook_config (version 4) ----------------------------------------

def am_alert(fingerprint, status="firing", *, name="HighLatency", starts_at="2026-03-01T10:00:00Z",
             ends_at="0001-01-01T00:00:00Z", severity="critical", instance="api-1:9090",
             service="checkout"):
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": instance,
                   "service": service},
        "annotations": {"summary": f"{name} on {instance}",
                        "description": "p99 latency above 2s for 5 minutes"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.internal:9090/graph?g0.expr=latency_p99+%3E+2",
        "fingerprint": fingerprint,
    }


def am_group(*alerts, group_key='{}:{alertname="HighLatency"}'):
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "linecheck",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency", "service": "checkout"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.internal:9093",
        "alerts": list(alerts),
    }


# --- Grafana webhook contact point (the documentation's example body) --------------------------

def _grafana_alert(status, name, zone, starts_at, ends_at, fingerprint, rule):
    return {
        "status": status,
        "labels": {"alertname": name, "team": "blue", "zone": zone},
        "annotations": {
            "description": f"The system has {name.lower()}",
            "runbook_url": "https://myrunbook.com/runbook/1234",
            "summary": f"This alert was triggered for zone {zone}",
        },
        "startsAt": starts_at,
        "endsAt": ends_at if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": f"https://play.grafana.org/alerting/{rule}/edit",
        "fingerprint": fingerprint,
        "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana"
                      f"&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3D{zone}",
        "dashboardURL": "",
        "panelURL": "",
        "values": {"B": 44.23943737541908, "C": 1},
    }


def grafana_payload(status="firing"):
    """The webhook notifier documentation's example body (resolved: both alerts ended)."""
    resolved = status == "resolved"
    return {
        "receiver": "My Super Webhook",
        "status": status,
        "orgId": 1,
        "alerts": [
            _grafana_alert(status, "High memory usage", "us-1",
                           "2021-10-12T09:51:03.157076+02:00",
                           "2021-10-12T10:21:03.157076+02:00", "c6eadffa33fcdf37", "1afz29v7z"),
            _grafana_alert(status, "High CPU usage", "eu-1",
                           "2021-10-12T09:56:03.157076+02:00",
                           "2021-10-12T10:26:03.157076+02:00", "bc97ff14869b13e3", "d1rdpdv7k"),
        ],
        "groupLabels": {},
        "commonLabels": {"team": "blue"},
        "commonAnnotations": {},
        "externalURL": "https://play.grafana.org/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": "[RESOLVED] (blue)" if resolved else "[FIRING:2] (blue)",
        "state": "ok" if resolved else "alerting",
        "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\n",
    }


# --- Opsgenie Webhook integration (the documentation's alert action data) ----------------------

def opsgenie_action(action, *, alias="aliastest", updated_at=1420452224764002246, note=None,
                    **alert_changes):
    alert = {
        "updatedAt": updated_at,
        "tags": ["tag1", "tag2"],
        "teams": ["team1", "team2"],
        "recipients": ["recipient1", "recipient2"],
        "message": "test alert",
        "username": "fili@ifountain.com",
        "alertId": "052652ac-5d1c-464a-812a-7dd18bbfba8c",
        "source": "fili@ifountain.com",
        "alias": alias,
        "tinyId": "23",
        "createdAt": 1420452191104,
        "userId": "daed1180-0ce8-438b-8f8e-57e1a5920a2d",
        "entity": "",
    }
    if note is not None:
        alert["note"] = note
    alert.update(alert_changes)
    return {
        "source": {"name": "web" if action == "Create" else "", "type": "API"
                   if action == "Create" else "web"},
        "alert": alert,
        "action": action,
        "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d",
        "integrationName": "Integration1",
    }
