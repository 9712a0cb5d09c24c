"""The Slack Web API client and the ways the bot answers a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.error import URLError

from flask import current_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)

# Background work may wait this long for Slack; the HTTP answer never does.
TIMEOUT_SECONDS = 15
# What a call to Slack can fail with: an error answer, a client problem, the network.
SLACK_FAILURES = (SlackApiError, SlackClientError, URLError, OSError)


def web_client() -> WebClient:
    config = current_app.config
    return WebClient(token=config["SLACK_BOT_TOKEN"] or None, base_url=config["SLACK_API_URL"],
                     timeout=TIMEOUT_SECONDS)


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

    def send(self, text: str, *, blocks: list | None = None, in_channel: bool = False) -> None:
        """Send the message; a failure here is logged, never raised (nothing else depends on it)."""
        try:
            if self.response_url:
                response = WebhookClient(self.response_url, timeout=TIMEOUT_SECONDS).send(
                    text=text, blocks=blocks,
                    response_type="in_channel" if in_channel else "ephemeral")
                if response.status_code != 200:
                    log.warning("response_url answered %s: %s", response.status_code,
                                response.body)
            elif self.channel_id and in_channel:
                web_client().chat_postMessage(channel=self.channel_id, text=text, blocks=blocks)
            elif self.channel_id and self.user_id:
                web_client().chat_postEphemeral(channel=self.channel_id, user=self.user_id,
                                                text=text, blocks=blocks)
        except SLACK_FAILURES:
            log.exception("could not reply in Slack")
