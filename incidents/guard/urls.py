"""Reading a pasted CI link: which provider, repository and check it names, where it can tell.

GitHub (github.com, or a GitHub Enterprise host named github.*):
- `…/<owner>/<repo>/actions/workflows/<file>` and `…/blob/<ref>/.github/workflows/<file>`
  name a workflow by its file: complete.
- `…/actions/runs/<id>` (a workflow run), `…/actions/runs/<id>/job/<job id>` and
  `…/runs/<id>` (a check run) name one run: the check's name is not in the link, so it is
  taken from that run if Linecheck has received it.
GitLab (any host; its paths carry `/-/`): `…/<group>/<project>/-/jobs/<id>` and
`…/-/pipelines/<id>` name one run, likewise.

Anything else — or a run Linecheck has not seen — cannot be watched automatically and becomes
a manual guard (see service.spec_from_url).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from incidents.guard.models import Provider

WORKFLOWS = ".github/workflows/"
_OWNER_REPO = r"^/(?P<repo>[^/]+/[^/]+)"
_GITHUB = [
    (re.compile(_OWNER_REPO + r"/actions/workflows/(?P<file>[^/]+)/?$"), "workflow_file"),
    (re.compile(_OWNER_REPO + r"/blob/[^/]+/\.github/workflows/(?P<file>[^/]+)$"),
     "workflow_file"),
    (re.compile(_OWNER_REPO + r"/actions/runs/\d+/jobs?/(?P<id>\d+)/?$"), "check_run"),
    (re.compile(_OWNER_REPO + r"/actions/runs/(?P<id>\d+)(?:/attempts/\d+)?/?$"),
     "workflow_run"),
    (re.compile(_OWNER_REPO + r"/runs/(?P<id>\d+)/?$"), "check_run"),
]
_GITLAB_TAIL = re.compile(r"^(?P<what>jobs|pipelines)/(?P<id>\d+)/?$")


@dataclass(frozen=True)
class ParsedLink:
    """What a link says: a complete guard (name set), or a run to look the name up from."""

    provider: Provider
    repository: str
    name: str | None = None
    run_kind: str | None = None  # check_run | workflow_run | job | pipeline
    run_id: str | None = None


def _github_host(host: str) -> bool:
    return host == "github.com" or host.startswith("github.")


def parse(url: str) -> ParsedLink | None:
    """The provider, repository and (where the link has it) check a CI link names."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path
    if _github_host(host):
        for pattern, what in _GITHUB:
            found = pattern.match(path)
            if found is None:
                continue
            repository = found["repo"].lower()
            if what == "workflow_file":
                return ParsedLink(Provider.GITHUB, repository, name=WORKFLOWS + found["file"])
            return ParsedLink(Provider.GITHUB, repository, run_kind=what, run_id=found["id"])
    # GitLab project paths nest groups to any depth; `/-/` ends the project's path.
    project, separator, tail = path.partition("/-/")
    found = _GITLAB_TAIL.match(tail) if separator else None
    if found is not None and host and project.strip("/"):
        kind = "job" if found["what"] == "jobs" else "pipeline"
        return ParsedLink(Provider.GITLAB, project.strip("/").lower(), run_kind=kind,
                          run_id=found["id"])
    return None
