"""Jinja filters: times in the viewer's zone with the date always shown, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, g
from markupsafe import Markup, escape


def viewer_zone() -> ZoneInfo:
    user = g.get("user")
    try:
        return ZoneInfo(user.timezone if user else "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> Markup | str:
    """Format a UTC timestamp in the viewer's zone, always with its date, as a `<time>` the
    page keeps on one line (a date broken after its hyphen or before "UTC" misreads)."""
    if value is None:
        return "—"
    return Markup('<time datetime="{}">{}</time>').format(
        value.astimezone(UTC).isoformat(), value.astimezone(viewer_zone()).strftime(fmt))


def duration(value: timedelta | float | int | None) -> str:
    """`1d 2h`, `3h 05m`, `4m 10s`; a dash when unknown."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def label(value) -> str:
    """`in_progress` → `in progress`."""
    return str(value).replace("_", " ") if value is not None else ""


def code_spans(text: str) -> Markup:
    """Show `backticked` words of a plain-text description as code, the rest as text."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick stays a backtick
        parts[-2:] = ["`".join(parts[-2:])]
    return Markup("").join(Markup("<code>{}</code>").format(part) if index % 2 else escape(part)
                           for index, part in enumerate(parts))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(localtime=localtime, duration=duration, label=label,
                                 code_spans=code_spans)
    # Lets the layout link pages whose blueprints may not be registered (optional features).
    app.context_processor(lambda: {"url_rules": app.view_functions})
