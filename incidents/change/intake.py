"""Consumers for the signed hooks' tables (`/hooks/github`, `/hooks/gitlab`, `/hooks/changes`):
parse the body with the source's parser, apply the facts, say what happened."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from incidents.change import service
from incidents.hooks.webhooks import Consumer, Handled


def consumer(parse: Callable[[dict], list]) -> Consumer:
    """The consumer of one event: `parse(body)` gives the facts, the service applies them."""

    def consume(*, session, body, delivery) -> Handled:
        facts = parse(body)
        if not facts:
            return Handled.ignored("nothing about a merged or deployed change in this event")
        applied = service.apply(session=session, facts=facts,
                                settings=service.Settings.from_config(current_app.config))
        if not applied.changed:
            where = ", ".join(applied.skipped)
            return Handled.ignored(f"a deploy to {where}: neither a production nor a canary "
                                   "environment (PRODUCTION_ENVIRONMENTS, CANARY_ENVIRONMENTS)")
        return Handled("applied", _summary(applied),
                       refs={"changes": [c.id for c in applied.changes]})

    consume.__name__ = f"consume_{getattr(parse, '__name__', 'event')}"
    return consume


def _summary(applied: service.Applied) -> str:
    parts = []
    for change in applied.changes:
        parts.append(f"change {change.short} of {change.repository}: "
                     f"{change.origin.replace('_', ' ')}")
    if applied.approvals:
        parts.append(f"{applied.approvals} review recorded")
    if applied.deployed:
        parts.append(f"{len(applied.deployed)} change(s) reached production, "
                     f"{applied.timeline_events} timeline entr"
                     f"{'y' if applied.timeline_events == 1 else 'ies'} on open incidents")
    return "; ".join(parts)
