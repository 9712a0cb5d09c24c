"""The Slack Web API client and the ways the bot answers a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.error import URLError

from flask import current_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from incidents.outbox import service as outbox

log = logging.getLogger(__name__)

# Background work may wait this long for Slack; the HTTP answer never does.
TIMEOUT_SECONDS = 15
# What a call to Slack can fail with: an error answer, a client problem, the network.
SLACK_FAILURES = (SlackApiError, SlackClientError, URLError, OSError)


REPLY = "slack.reply"  # the job kind of a queued reply
# Error codes Slack answers (HTTP 200, ok: false) that say "try again later"; every other code
# (channel_not_found, not_in_channel, invalid_auth, …) is permanent.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error",
                              "service_unavailable", "request_timeout"})


def web_client() -> WebClient:
    """The Web API client. slack-sdk's default retry handler retries a dropped connection once,
    in the call; longer waits (rate limits, outages) are the outbox's, between attempts."""
    config = current_app.config
    return WebClient(token=config["SLACK_BOT_TOKEN"] or None, base_url=config["SLACK_API_URL"],
                     timeout=TIMEOUT_SECONDS)


def job_failure(exc: BaseException) -> outbox.Retry | outbox.Dead:
    """What a failed Slack call means for the job that made it: retry later, or give up."""
    code = error_code(exc)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if code and status == 200 and code not in TRANSIENT_ERRORS:
        return outbox.Dead(describe_failure(exc))
    return outbox.vendor_failure(exc, describe_failure(exc))


def error_code(exc: BaseException) -> str | None:
    """Slack's error code (`name_taken`, `ratelimited`…) when Slack answered with one."""
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return exc.response.get("error")
    return None


def describe_failure(exc: BaseException) -> str:
    """A short, human account of why a call to Slack failed."""
    if isinstance(exc, SlackApiError) and exc.response is not None:
        response = exc.response
        if response.status_code == 429 or response.get("error") == "ratelimited":
            wait = response.headers.get("Retry-After") or response.headers.get("retry-after")
            return "Slack is rate limiting the bot" + (f" (retry after {wait} s)" if wait else "")
        return f"Slack answered `{response.get('error') or response.status_code}`"
    return f"Slack could not be reached ({type(exc).__name__})"


@dataclass(frozen=True)
class ReplyTo:
    """Where to tell a person how their request went: a response_url, else an ephemeral post."""

    response_url: str | None = None
    channel_id: str | None = None
    user_id: str | None = None

    @classmethod
    def of(cls, data: dict | None) -> ReplyTo:
        data = data or {}
        return cls(response_url=data.get("response_url"), channel_id=data.get("channel_id"),
                   user_id=data.get("user_id"))

    def to_dict(self) -> dict:
        return {"response_url": self.response_url, "channel_id": self.channel_id,
                "user_id": self.user_id}

    def queue(self, session, *, key: str, text: str, blocks: list | None = None,
              in_channel: bool = False, incident_id: int | None = None) -> bool:
        """Queue the message for the worker, in the caller's transaction (`deliver` sends it)."""
        if not (self.response_url or self.channel_id):
            return False
        return outbox.enqueue(session=session, kind=REPLY, key=key, incident_id=incident_id,
                              payload={"reply": self.to_dict(), "text": text, "blocks": blocks,
                                       "in_channel": in_channel})

    def deliver(self, text: str, *, blocks: list | None = None, in_channel: bool = False) -> None:
        """Send the message; raise the outbox's Retry or Dead when Slack does not take it."""
        try:
            if self.response_url:
                response = WebhookClient(self.response_url, timeout=TIMEOUT_SECONDS).send(
                    text=text, blocks=blocks,
                    response_type="in_channel" if in_channel else "ephemeral")
                failure = outbox.answer_failure(
                    response.status_code, response.headers,
                    f"response_url answered {response.status_code}: {response.body[:200]}")
                if failure is not None:
                    raise failure
            elif self.channel_id and in_channel:
                web_client().chat_postMessage(channel=self.channel_id, text=text, blocks=blocks)
            elif self.channel_id and self.user_id:
                web_client().chat_postEphemeral(channel=self.channel_id, user=self.user_id,
                                                text=text, blocks=blocks)
        except SLACK_FAILURES as exc:
            raise job_failure(exc) from exc

    def send(self, text: str, *, blocks: list | None = None, in_channel: bool = False) -> None:
        """Send the message now, in-process; a failure is logged, never raised (only a form
        that could not open is told this way: nothing else depends on it)."""
        try:
            self.deliver(text, blocks=blocks, in_channel=in_channel)
        except (outbox.Retry, outbox.Dead):
            log.warning("could not reply in Slack", exc_info=True)
