"""Full-text search over what is written about an incident: title, description, service,
timeline and review write-up.

Every text is cut into words the same way here, in Python, before either database sees it:
lower-cased, split on anything but letters and digits, each word cut to MAX_TERM_LENGTH, kept
once. PostgreSQL takes those words as they are (array_to_tsvector, a GIN index), SQLite through
FTS5, and a search word matches a stored word it begins; so both databases answer alike. The
words are written here, in the transaction of the change (the timeline's and review's hot
paths are Core statements that no ORM event sees), never by triggers that would cut words
their own way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import column, false, select, table, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from incidents.errors import InvalidInput
from incidents.incident.models import (
    SEARCH_FTS_TABLE,
    SEARCH_VECTOR,
    Incident,
    IncidentSearch,
)

MAX_SEARCH_WORDS = 20
MAX_TERM_LENGTH = 100
# Each section keeps its first words up to this many characters; the three together stay far
# below PostgreSQL's 1 MB tsvector limit, and a write never rewrites more than this.
MAX_SECTION_CHARS = 100_000
_WORD = re.compile(r"[^\W_]+")


def words(text: str, *, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """The distinct words of `text`, in order, as search stores and matches them."""
    seen: dict[str, None] = {}
    size = 0
    for match in _WORD.finditer(text.lower()):
        word = match.group()[:MAX_TERM_LENGTH]
        if word in seen:
            continue
        size += len(word) + 1
        if size > limit:
            break
        seen[word] = None
    return list(seen)


def search_words(q: str) -> list[str]:
    """The distinct words of a search; more than MAX_SEARCH_WORDS is refused.

    Matching only some of them would show incidents that do not match the search as if they
    did. The scan stops at the first word past the cap, so a long query costs no more.
    """
    seen: dict[str, None] = {}
    for match in _WORD.finditer(q.lower()):
        seen[match.group()[:MAX_TERM_LENGTH]] = None
        if len(seen) > MAX_SEARCH_WORDS:
            raise InvalidInput(f"search for at most {MAX_SEARCH_WORDS} different words",
                               field="q")
    return list(seen)


def matching(*, session: Session, q: str) -> ColumnElement[bool]:
    """A condition on Incident: every word of `q` begins a word written about it."""
    found = search_words(q)
    if not found:
        return false()  # only punctuation: nothing can match it
    if session.get_bind().dialect.name == "postgresql":
        # Words are letters and digits only, so quoting them needs no escaping.
        query = " & ".join(f"'{word}':*" for word in found)
        ids = select(IncidentSearch.incident_id).where(
            text(f"{SEARCH_VECTOR} @@ CAST(:search_query AS tsquery)")
            .bindparams(search_query=query))
    else:
        query = " AND ".join(f'"{word}"*' for word in found)
        fts = table(SEARCH_FTS_TABLE, column("rowid"))
        ids = select(fts.c.rowid).where(
            text(f"{SEARCH_FTS_TABLE} MATCH :search_query").bindparams(search_query=query))
    return Incident.id.in_(ids)


def _row(session: Session, incident_id: int) -> IncidentSearch:
    """The incident's words, locked until commit so two writers cannot lose each other's.

    The incident's row is locked first, as every other write to an incident does (its UPDATE
    comes before its timeline's INSERT): one order for everyone, so no deadlock.
    """
    session.execute(select(Incident.id).where(Incident.id == incident_id)
                    .with_for_update(key_share=True))
    row = session.scalar(select(IncidentSearch).where(IncidentSearch.incident_id == incident_id)
                         .with_for_update().execution_options(populate_existing=True))
    if row is None:
        row = IncidentSearch(incident_id=incident_id, incident_terms="", review_terms="",
                             timeline_terms="")
        session.add(row)
    return row


def note_incident(*, session: Session, incident: Incident) -> None:
    """Store the incident's title, description and service as they are now."""
    terms = " ".join(words(" ".join([incident.title or "", incident.description or "",
                                     incident.service or ""])))
    row = _row(session, incident.id)
    if row.incident_terms != terms:
        row.incident_terms = terms
    session.flush()


def note_review(*, session: Session, incident_id: int, markdown: str) -> None:
    """Store the review's write-up as saved now."""
    row = _row(session, incident_id)
    terms = " ".join(words(markdown))
    if row.review_terms != terms:
        row.review_terms = terms
    session.flush()


def note_timeline(*, session: Session, incident_id: int, texts: Iterable[str]) -> None:
    """Add the words of new (or edited) timeline text; what was written stays findable."""
    row = _row(session, incident_id)
    known = row.timeline_terms.split()
    have = set(known)
    added = [w for w in words(" ".join(texts)) if w not in have]
    if added:
        row.timeline_terms = " ".join(words(" ".join(known + added)))
    session.flush()


def rebuild(*, session: Session, after_id: int = 0, batch: int = 500) -> int:
    """Write the words of every incident past `after_id` afresh, a batch at a time (for data
    that arrived by bulk insert: imports, the benchmark seeder). Returns how many."""
    from incidents.review.models import Review
    from incidents.timeline.models import TimelineEvent, TimelineEventRevision

    done = 0
    while True:
        page = list(session.scalars(select(Incident).where(Incident.id > after_id)
                                    .order_by(Incident.id).limit(batch)))
        if not page:
            return done
        low, high = page[0].id, page[-1].id
        texts: dict[int, list[str]] = {incident.id: [] for incident in page}
        for incident_id, body in session.execute(
                select(TimelineEvent.incident_id, TimelineEvent.text)
                .where(TimelineEvent.incident_id.between(low, high))
                .order_by(TimelineEvent.id)):
            texts[incident_id].append(body)
        for incident_id, body in session.execute(
                select(TimelineEvent.incident_id, TimelineEventRevision.text)
                .join(TimelineEvent, TimelineEvent.id == TimelineEventRevision.event_id)
                .where(TimelineEvent.incident_id.between(low, high))
                .order_by(TimelineEventRevision.id)):
            texts[incident_id].append(body)
        markdown = dict(session.execute(
            select(Review.incident_id, Review.markdown)
            .where(Review.incident_id.between(low, high))).all())
        for incident in page:
            note_incident(session=session, incident=incident)
            row = _row(session, incident.id)
            row.review_terms = " ".join(words(markdown.get(incident.id) or ""))
            row.timeline_terms = " ".join(words(" ".join(texts[incident.id])))
        session.flush()
        done += len(page)
        after_id = high
