"""What every tracker provider offers, and how a vendor's HTTP answers become errors.

A provider module (`github`, `jira`, `linear`) has:

- `create(conn, draft) -> Snapshot` — open the issue;
- `find_created(conn, draft, since) -> Snapshot | None` — the issue an earlier attempt of the
  same creation made, found by its `creation_id` (so a retry never opens a second one);
- `fetch(conn, reference) -> Snapshot` — the issue's state now;
- `recognise(url) -> Ref | None` — an issue URL of this vendor;
- `parse_event(body) -> Event` — a webhook body in the vendor's documented shape.

Providers know nothing of the database; the tracker service applies what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime

import requests

from incidents.db import utcnow
from incidents.hooks.events import BadPayload
from incidents.tracker.models import IssueState

TIMEOUT_SECONDS = 15
USER_AGENT = "Linecheck tracker sync"
MAX_TEXT = 200


@dataclass(frozen=True)
class Conn:
    """Where and as whom to call one vendor: API base URL and credential."""

    api_url: str
    credential: str
    project: str = ""  # GitHub owner/repo, Jira project key, Linear team id
    issue_type: str = "Task"  # Jira
    site_url: str = ""  # Jira: the site issues are browsed on


@dataclass(frozen=True)
class Draft:
    """The issue to open for a prevention item."""

    item_id: int
    creation_id: str
    title: str
    facts: tuple[tuple[str, str], ...]  # (label, value): strength, station, guard expected…
    link: str  # back to the item in Linecheck

    def markdown(self) -> str:
        """The body for trackers that take Markdown (GitHub, Linear)."""
        lines = [f"**{label}:** {value}" for label, value in self.facts]
        return "\n".join([*lines, "", f"Prevention item in Linecheck: {self.link}"])


@dataclass(frozen=True)
class Snapshot:
    """An issue as the tracker reports it, in the product's words."""

    reference: str
    key: str
    url: str
    state: IssueState
    state_name: str
    assignee: str | None = None
    due_date: date | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Ref:
    """An issue named by a URL: enough to fetch it."""

    reference: str
    key: str
    site_url: str = ""


@dataclass(frozen=True)
class Event:
    """A webhook event: the issue's new state, or that it was deleted or moved."""

    action: str  # the vendor's event/action, for the history line
    snapshot: Snapshot | None = None  # None for an event about no issue (ignored)
    deleted: bool = False
    moved_from: str | None = None  # the old reference when the issue moved


class TrackerError(Exception):
    """A call to a tracker failed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unavailable(TrackerError):
    """Down, rate limited or unreachable: try again later (after `retry_after` seconds)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Gone(TrackerError):
    """The issue is not there (deleted, or never was)."""


class NoAccess(TrackerError):
    """The credential is missing, wrong, or may not see this issue or project."""


class Moved(TrackerError):
    """The issue lives elsewhere now (transferred to another repository or project)."""

    def __init__(self, message: str, location: str = ""):
        super().__init__(message)
        self.location = location


class Rejected(TrackerError):
    """The tracker rejected the request as malformed: retrying will not help."""


def retry_after(response: requests.Response) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date), or a rate-limit reset."""
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
            except (TypeError, ValueError):
                return None
    reset = response.headers.get("X-RateLimit-Reset")  # GitHub: epoch seconds
    if reset and response.headers.get("X-RateLimit-Remaining") == "0":
        try:
            return max(0.0, float(reset) - utcnow().timestamp())
        except ValueError:
            return None
    return None


def call(method: str, url: str, *, vendor: str, ok: tuple[int, ...] = (),
         **kwargs) -> requests.Response:
    """One HTTP call to a tracker; the answer when it is 2xx (or in `ok`), else the matching
    error."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json",
               **kwargs.pop("headers", {})}
    try:
        response = requests.request(method, url, headers=headers, timeout=TIMEOUT_SECONDS,
                                    allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise Unavailable(f"{vendor} could not be reached ({type(exc).__name__})") from None
    status = response.status_code
    if 200 <= status < 300 or status in ok:
        return response
    said = _said(response)
    if status == 429 or status >= 500 or (status == 403 and retry_after(response) is not None):
        raise Unavailable(f"{vendor} answered {status}{said}", retry_after(response))
    if status in (301, 302, 307, 308):
        raise Moved(f"{vendor} says the issue moved", response.headers.get("Location", ""))
    if status in (401, 403):
        raise NoAccess(f"{vendor} refused access ({status}){said}")
    if status in (404, 410):
        raise Gone(f"{vendor} has no such issue ({status}){said}")
    raise Rejected(f"{vendor} refused the request ({status}){said}")


def _said(response: requests.Response) -> str:
    """A short excerpt of the vendor's error message, for logs and the admin's eyes."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = ""
    if isinstance(body, dict):
        message = body.get("message") or "; ".join(
            str(m) for m in (body.get("errorMessages") or []))
    return f": {str(message)[:MAX_TEXT]}" if message else ""


def marker(creation_id: str) -> str:
    """The label that ties an issue to the creation that made it."""
    return f"linecheck-{creation_id}"


# -- reading documented payloads -------------------------------------------------------------

def need(obj, name: str, kind, where: str):
    """obj[name] of the given type, or BadPayload naming the field."""
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BadPayload(f"{where}{name} is missing or not a {_type_name(kind)}",
                         field=f"{where}{name}")
    return value


def _type_name(kind) -> str:
    names = {str: "string", int: "number", dict: "object", list: "list"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def timestamp(value) -> datetime | None:
    """An ISO 8601 time from a payload (`Z` or an offset; Jira's `+0000` too), else None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # Jira: 2026-11-20T10:00:00.000+0000
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def day(value) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def short(value, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""
