"""One module per tracker behind one small interface (see `base`)."""

from __future__ import annotations

from types import ModuleType

from incidents.tracker.models import Vendor
from incidents.tracker.providers import github, jira, linear
from incidents.tracker.providers.base import Ref

PROVIDERS: dict[Vendor, ModuleType] = {
    Vendor.GITHUB: github, Vendor.JIRA: jira, Vendor.LINEAR: linear,
}


def provider(vendor: Vendor | str) -> ModuleType:
    return PROVIDERS[Vendor(vendor)]


def recognise(url: str) -> tuple[Vendor, Ref] | None:
    """The tracker and issue a pasted URL names, if any tracker recognises it."""
    for vendor, module in PROVIDERS.items():
        ref = module.recognise(url)
        if ref is not None:
            return vendor, ref
    return None
