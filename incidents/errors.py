"""Errors the domain raises; each adapter turns them into its own answer (HTTP, Slack, CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. `field` names the offending input when there is one."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict:
        body: dict = {"error": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The change was based on stale data (a review revision, a status that moved on)."""

    status = 409


class Refused(DomainError):
    """A rule of the product refuses the change (the publish gate, a missing guard)."""

    status = 422


def parse_choice(enum_cls, value, field: str):
    """The enum member for `value`, or InvalidInput naming the field and the allowed values."""
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(f"{field} must be one of {allowed}", field=field) from None
