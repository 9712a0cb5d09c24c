"""The paging tools: one module each, found here by name.

A tool module defines:

- `NAME` — the hook's path (`POST /hooks/<NAME>`) and the sender name deliveries are recorded by;
- `SOURCE` — the incident source it opens incidents as;
- `LABEL` and `DOC` — how the settings page and the OpenAPI document describe it;
- `parse(body) -> list[HookEvent]` — turn a verified JSON body into normalised events, raising
  `BadPayload` for a body that is not the tool's documented shape;
- optionally `delivery_key(body) -> str | None` — the sender's own id for the delivery (without
  one, the SHA-256 of the raw body identifies it);
- optionally `verify(raw, headers, config) -> bool` — the sender's own signature, accepted in
  place of a bearer token;
- `samples() -> list[dict]` — documented payloads (a trigger, then its resolve) that the
  settings page's "send a test event" button passes through the hook's path;
- optionally `STALE_AFTER_HOURS` — for senders that repeat firing alerts, when an incident
  without one counts as gone quiet until an admin sets otherwise.

A token with the `hooks` scope opens every hook; `hooks:<NAME>` (a `Scope` member) only this one.

Tools never touch the database. Adding a tool is adding a module to this package.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType


@cache
def registry() -> dict[str, ModuleType]:
    """Every tool module in this package by NAME (modules starting with _ are helpers)."""
    tools = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        tools[module.NAME] = module
    return tools
