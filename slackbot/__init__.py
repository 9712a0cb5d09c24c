"""The Slack adapter: signed endpoints, /incident, pins, notices and reminders."""
