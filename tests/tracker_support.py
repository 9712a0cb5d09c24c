"""Driving a tracker in tests: change an issue as a person would, then deliver the vendor's
webhook for it, signed as the vendor signs it (or not)."""

from __future__ import annotations

from tests.conftest import GITHUB_SECRET
from tests.fake_trackers import JIRA_SECRET, LINEAR_SECRET, jira_delivery, linear_delivery
from tests.helpers import github_delivery

HOOKS = {"github": "/hooks/github", "jira": "/hooks/jira", "linear": "/hooks/linear"}


class Driver:
    """One vendor's fake, seen through the issue linked to an item."""

    def __init__(self, vendor: str, fake):
        self.vendor, self.fake = vendor, fake

    def _id(self, link) -> str:
        return link.reference if self.vendor != "jira" else link.key

    def close_completed(self, link) -> dict:
        if self.vendor == "github":
            self.fake.close(link.reference, "completed")
            return self.fake.event("closed", link.reference)
        if self.vendor == "jira":
            changelog = self.fake.transition(link.key, "done", resolution="Done")
            return self.fake.event("jira:issue_updated", link.key, changelog)
        before = self.fake.set_state(link.reference, "completed")
        return self.fake.event("update", link.reference, before)

    def close_not_planned(self, link) -> dict:
        if self.vendor == "github":
            self.fake.close(link.reference, "not_planned")
            return self.fake.event("closed", link.reference)
        if self.vendor == "jira":
            changelog = self.fake.transition(link.key, "done", resolution="Won't Do")
            return self.fake.event("jira:issue_updated", link.key, changelog)
        before = self.fake.set_state(link.reference, "canceled")
        return self.fake.event("update", link.reference, before)

    def reopen(self, link) -> dict:
        if self.vendor == "github":
            self.fake.reopen(link.reference)
            return self.fake.event("reopened", link.reference)
        if self.vendor == "jira":
            changelog = self.fake.transition(link.key, "new", name="To Do")
            return self.fake.event("jira:issue_updated", link.key, changelog)
        before = self.fake.set_state(link.reference, "unstarted")
        return self.fake.event("update", link.reference, before)

    def deliver(self, client, body, *, secret: str | None = "default", delivery=None):
        """POST the body to the vendor's hook, signed with its secret (None: unsigned)."""
        if self.vendor == "github":
            kwargs = github_delivery("issues", body, delivery=delivery,
                                     secret=GITHUB_SECRET if secret == "default" else secret
                                     or "")
            if secret is None:
                del kwargs["headers"]["X-Hub-Signature-256"]
        elif self.vendor == "jira":
            kwargs = jira_delivery(body, identifier=delivery,
                                   secret=JIRA_SECRET if secret == "default" else secret)
        else:
            kwargs = linear_delivery(body, delivery=delivery,
                                     secret=LINEAR_SECRET if secret == "default" else secret)
        return client.post(HOOKS[self.vendor], **kwargs)
