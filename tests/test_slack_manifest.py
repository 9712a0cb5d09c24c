"""The shipped Slack app manifest matches the routes and ids the bot answers to."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml

from slackbot.blocks import PIN_SHORTCUT_CALLBACK

MANIFEST = Path(__file__).resolve().parent.parent / "slackbot" / "manifest.yml"


def load() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_urls_are_the_slack_routes(app):
    manifest = load()
    urls = [manifest["features"]["slash_commands"][0]["url"],
            manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"]]
    routes = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert [urlsplit(url).path for url in urls] == [
        "/slack/commands", "/slack/events", "/slack/interactions"]
    assert all(urlsplit(url).path in routes for url in urls)


def test_manifest_declares_command_shortcut_event_and_scopes():
    manifest = load()
    assert manifest["features"]["slash_commands"][0]["command"] == "/incident"
    shortcut = manifest["features"]["shortcuts"][0]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", PIN_SHORTCUT_CALLBACK)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["reaction_added"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:manage", "channels:history", "channels:read",
            "groups:history", "reactions:read", "users:read", "im:write"} <= scopes
