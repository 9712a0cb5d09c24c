"""The post-incident review: revisions, station findings, kept blame flags, and the publish gate.

Every adapter (browser, API, Slack) goes through these functions, so the gate and the
no-lost-work rule hold everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from incidents.audit import service as audit
from incidents.auth.models import User
from incidents.blame import advice, guard
from incidents.db import utcnow
from incidents.errors import Conflict, InvalidInput, NotFound, Refused, parse_choice
from incidents.incident import search
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.prevention import service as prevention
from incidents.prevention.models import PreventionItem, PreventionLink, PreventionStatus
from incidents.review import signoff
from incidents.review.markdown import render
from incidents.review.models import (
    DefectClass,
    KeptBlameFlag,
    MissReason,
    Review,
    ReviewRevision,
    ReviewState,
    StationFinding,
)

# What a new write-up starts from. Its headings are in every write-up, so they say nothing
# about which incidents are alike (recurrence leaves these words out of similarity).
SKELETON = ("## Summary\n\n\n## Impact\n\n\n## Timeline narrative\n\n\n"
            "## Contributing factors\n\n")

MAX_MARKDOWN = 100_000
MAX_NOTE = 5_000
MAX_REASON = 2_000

# What the publish gate asks for, by the code it names in `Refused.missing`.
GATE = {
    "incident_resolved": "the incident resolved: a review of an incident still open would miss "
                         "how it ended",
    "station_finding": "at least one station finding: which station should have caught this, "
                       "and why it did not",
    "defect_class": "a defect class",
    "structural_prevention_item": "a linked structural prevention item (eliminate, detect "
                                  "earlier, fail loudly or contain) that does not read as advice",
    "blame_flags": "every blame flag reworded or kept with a reason",
    "approval": "an approval by a reviewer who wrote none of it (when the review policy asks "
                "for sign-off)",
}


class StaleReview(Conflict):
    """A save based on an older revision; `current` is the review as it now stands."""

    def __init__(self, current: Review, base_revision: int):
        super().__init__(
            f"This review changed while you were editing: revision {current.revision} is "
            f"current, you started from revision {base_revision}. Nothing was overwritten.",
            field="revision",
        )
        self.current = current


@dataclass
class ReviewFlag:
    """A blame flag found in the review, where it was found, and whether it was kept."""

    flag: guard.Flag
    where: str
    kept: KeptBlameFlag | None = None


# --- finding and starting -------------------------------------------------------------------

def find(*, session: Session, incident_id: int) -> Review | None:
    return session.scalar(
        select(Review).where(Review.incident_id == incident_id)
        .options(selectinload(Review.findings).selectinload(StationFinding.station),
                 selectinload(Review.kept_flags))
    )


def get_or_new(*, session: Session, incident_id: int) -> Review:
    """The incident's review, or an unsaved empty draft when none was started (reads only)."""
    incidents.get(session=session, incident_id=incident_id)
    review = find(session=session, incident_id=incident_id)
    if review is None:
        review = Review(incident_id=incident_id, state=ReviewState.DRAFT, markdown="",
                        revision=0, findings=[], kept_flags=[])
    return review


def start(*, session: Session, incident_id: int) -> Review:
    """The incident's review, started now if there is none (one per incident, race-safe)."""
    review = find(session=session, incident_id=incident_id)
    if review is not None:
        return review
    incidents.get(session=session, incident_id=incident_id)
    try:
        with session.begin_nested():
            session.add(Review(incident_id=incident_id, state=ReviewState.DRAFT, markdown="",
                               revision=0))
    except IntegrityError:
        pass  # started at the same moment by someone else: theirs is the one
    return find(session=session, incident_id=incident_id)


# --- saving ---------------------------------------------------------------------------------

_UNCHANGED = object()


def parse_defect_class(value) -> DefectClass | None:
    if value in (None, ""):
        return None
    return parse_choice(DefectClass, value, "defect_class")


def save(
    *,
    session: Session,
    review: Review,
    base_revision: int,
    markdown: str | None = None,
    defect_class=_UNCHANGED,
    author: User | None = None,
    author_label: str = "",
) -> Review:
    """Save the write-up and defect class as a new revision, if `base_revision` is current.

    Raises StaleReview (a Conflict) when someone saved since: nothing is overwritten.
    """
    _editable(review)
    values: dict = {}
    if markdown is not None:
        if len(markdown) > MAX_MARKDOWN:
            raise InvalidInput(f"the write-up is longer than {MAX_MARKDOWN} characters",
                               field="markdown")
        values["markdown"] = _text(markdown).replace("\r\n", "\n")
        # Rendered and checked once, here, not on every view of the review.
        values["html"] = str(render(values["markdown"]))
        values["blame_flags"] = _check(values["markdown"], findings(review))
    if defect_class is not _UNCHANGED:
        values["defect_class"] = parse_defect_class(defect_class)
    return _write(session, review, base_revision, author, author_label, **values)


def _write(session: Session, review: Review, base_revision: int, author: User | None,
           author_label: str, **values) -> Review:
    """Move the review from `base_revision` to the next, conditionally, and record it."""
    values.update(revision=base_revision + 1, updated_at=utcnow(),
                  updated_by_id=author.id if author else None)
    # The WHERE on the revision is the lock: of two saves from the same base, one matches.
    result = session.execute(
        update(Review).where(Review.id == review.id, Review.revision == base_revision)
        .values(**values).execution_options(synchronize_session=False)
    )
    session.refresh(review)
    if result.rowcount != 1:
        raise StaleReview(review, base_revision)
    try:
        with session.begin_nested():
            session.add(ReviewRevision(
                review=review, revision=review.revision, markdown=review.markdown,
                defect_class=review.defect_class, state=review.state, html=review.html,
                author_id=author.id if author else None,
                author_label=author_label or (author.display_name if author else ""),
            ))
    except IntegrityError:
        # The unique (review, revision) backs the conditional update up.
        raise StaleReview(review, base_revision) from None
    if "markdown" in values:
        search.note_review(session=session, incident_id=review.incident_id,
                           markdown=review.markdown)
    return review


def _text(value: str | None) -> str:
    # PostgreSQL text cannot hold NUL; it carries no meaning in a write-up anyway.
    return (value or "").replace("\x00", "")


def _editable(review: Review) -> None:
    if review.state == ReviewState.PUBLISHED:
        raise Refused("This review is published; reopen it to change it.", field="state")


def revisions(*, session: Session, review: Review) -> list[ReviewRevision]:
    """Every save, newest first, authors loaded."""
    return list(session.scalars(
        select(ReviewRevision).where(ReviewRevision.review_id == review.id)
        .options(selectinload(ReviewRevision.author))
        .order_by(ReviewRevision.revision.desc())
    ))


def revision(*, session: Session, review: Review, number: int) -> ReviewRevision:
    found = session.scalar(select(ReviewRevision).where(
        ReviewRevision.review_id == review.id, ReviewRevision.revision == number))
    if found is None:
        raise NotFound(f"no revision {number} of this review")
    return found


# --- station findings -----------------------------------------------------------------------

def _reason(value) -> MissReason:
    return parse_choice(MissReason, value, "reason")


def findings(review: Review) -> list[StationFinding]:
    """The review's findings in the line's order (removed stations keep their place)."""
    return sorted(review.findings, key=lambda f: (f.station.position, f.station_id))


def set_finding(
    *,
    session: Session,
    review: Review,
    station_id: int,
    reason,
    note: str = "",
    cheapest: bool = False,
    actor: User | None = None,
) -> tuple[StationFinding, bool]:
    """Record why a station did not catch the defect; return the finding and whether it is new.

    One finding per station; exactly one finding of a review is the cheapest place to catch
    this class next time (the first one is, until another is chosen).
    """
    _editable(review)
    reason = _reason(reason)
    note = _text(note).strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note is longer than {MAX_NOTE} characters", field="note")
    station = line.get(session=session, station_id=station_id)
    finding = next((f for f in review.findings if f.station_id == station.id), None)
    created = finding is None
    if created and not station.active:
        raise InvalidInput(f"station {station.name!r} is no longer on the line",
                           field="station_id")
    if cheapest:
        _clear_cheapest(session, review)
    if created:
        finding = StationFinding(review=review, station=station, reason=reason, note=note,
                                 cheapest=cheapest)
        session.add(finding)
    else:
        finding.reason, finding.note = reason, note
        finding.cheapest = cheapest or finding.cheapest
    session.flush()
    _keep_one_cheapest(session, review)
    _refresh_flags(review)
    audit.record(session=session, action="review.finding_set", entity_type="review",
                 entity_id=review.id, actor=actor, station_id=station.id, reason=str(reason))
    return finding, created


def remove_finding(*, session: Session, review: Review, station_id: int,
                   actor: User | None = None) -> None:
    _editable(review)
    finding = next((f for f in review.findings if f.station_id == station_id), None)
    if finding is None:
        raise NotFound(f"no finding for station {station_id} in this review", field="station_id")
    review.findings.remove(finding)
    session.flush()
    _keep_one_cheapest(session, review)
    _refresh_flags(review)
    audit.record(session=session, action="review.finding_removed", entity_type="review",
                 entity_id=review.id, actor=actor, station_id=station_id)


def _clear_cheapest(session: Session, review: Review) -> None:
    # Cleared in its own statement first: the one-cheapest index is checked row by row.
    session.execute(update(StationFinding).where(StationFinding.review_id == review.id)
                    .values(cheapest=False))


def _keep_one_cheapest(session: Session, review: Review) -> None:
    ordered = findings(review)
    if ordered and not any(f.cheapest for f in ordered):
        ordered[0].cheapest = True
        session.flush()


# --- blame flags ----------------------------------------------------------------------------

def flags(review: Review) -> list[ReviewFlag]:
    """Blame flags in the write-up and in the findings' notes, each with its kept reason.

    Read from what the last save stored; a review saved before flags were stored gets them
    computed here (not written: a read stays a read) until `refresh` or its next save.
    """
    kept = {(k.rule, k.phrase): k for k in review.kept_flags}
    stored = review.blame_flags
    if stored is None:
        stored = _check(review.markdown or "", findings(review))
    found = []
    for data in stored:
        flag = guard.Flag(**{name: data.get(name) for name in _FLAG_FIELDS})
        found.append(ReviewFlag(flag=flag, where=data["where"], kept=kept.get(flag.key)))
    return found


def open_flags(review: Review) -> list[ReviewFlag]:
    """The flags that hold publishing back: a rule's flag neither reworded nor kept.

    A sentence only the model flags is shown with its confidence, to be read again, but does
    not block: the model is right about half the time on real writing (README), too often
    wrong to make every reviewer argue with it.
    """
    return [f for f in flags(review) if f.kept is None and f.flag.rule != "model"]


def marked_writeup(review: Review) -> Markup | None:
    """The saved write-up's source with each flagged phrase in <mark>, where it stands; None
    when nothing in the write-up is flagged."""
    spans = sorted((f for f in flags(review) if f.where == "write-up"),
                   key=lambda f: f.flag.start)
    if not spans:
        return None
    text, at, parts = review.markdown or "", 0, []
    for item in spans:
        if item.flag.start < at:
            continue  # overlapping: the first one marks it
        parts.append(escape(text[at:item.flag.start]))
        parts.append(Markup('<mark class="{}" title="{}">{}</mark>').format(
            "kept" if item.kept else "open", item.flag.label or item.flag.rule,
            text[item.flag.start:item.flag.end]))
        at = item.flag.end
    parts.append(escape(text[at:]))
    return Markup("").join(parts)


def html(review: Review) -> Markup:
    """The write-up as safe HTML, as rendered when it was saved."""
    return Markup(review.html) if review.html is not None else render(review.markdown)


def revision_html(shown: ReviewRevision) -> Markup:
    """A past revision's write-up as safe HTML (rendered when saved, on rows since 0005)."""
    return Markup(shown.html) if shown.html is not None else render(shown.markdown)


def refresh(*, session: Session) -> int:
    """Render and check every review again, storing the HTML and flags; return how many.

    For reviews saved before these were stored, and after the guard's model is retrained.
    """
    count = 0
    for review in session.scalars(select(Review).options(
            selectinload(Review.findings).selectinload(StationFinding.station))):
        review.html = str(render(review.markdown or ""))
        _refresh_flags(review)
        count += 1
    for shown in session.scalars(select(ReviewRevision).where(ReviewRevision.html.is_(None))):
        shown.html = str(render(shown.markdown))
    session.flush()
    return count


_FLAG_FIELDS = ("start", "end", "rule", "question", "phrase", "label", "reason", "confidence")


def _check(markdown: str, notes: list[StationFinding]) -> list[dict]:
    texts = [("write-up", markdown)]
    texts += [(f"note on {f.station.name}", f.note) for f in notes if f.note]
    return [dict(flag.as_dict(), where=where) for where, text in texts
            for flag in guard.check(text)]


def _refresh_flags(review: Review) -> None:
    review.blame_flags = _check(review.markdown or "", findings(review))


def keep_flag(*, session: Session, review: Review, rule: str, phrase: str, reason: str,
              actor: User | None = None) -> KeptBlameFlag:
    """Keep a flagged phrase as written, with the reason why."""
    _editable(review)
    if rule not in guard.RULES:
        raise InvalidInput(f"unknown blame rule {rule!r}", field="rule")
    phrase = guard.normalise(_text(phrase))
    if not phrase:
        raise InvalidInput("name the phrase to keep", field="phrase")
    reason = _text(reason).strip()
    if not reason:
        raise InvalidInput("say why this phrasing stays", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters", field="reason")
    kept = next((k for k in review.kept_flags if (k.rule, k.phrase) == (rule, phrase)), None)
    if kept is None:
        kept = KeptBlameFlag(review=review, rule=rule, phrase=phrase, reason=reason,
                             kept_by_id=actor.id if actor else None)
        session.add(kept)
    else:
        kept.reason = reason
    session.flush()
    audit.record(session=session, action="review.flag_kept", entity_type="review",
                 entity_id=review.id, actor=actor, rule=rule, phrase=phrase)
    return kept


def unkeep_flag(*, session: Session, review: Review, kept_id: int) -> None:
    _editable(review)
    kept = next((k for k in review.kept_flags if k.id == kept_id), None)
    if kept is None:
        raise NotFound(f"no kept flag {kept_id} on this review")
    review.kept_flags.remove(kept)
    session.flush()


# --- prevention -----------------------------------------------------------------------------

def weakness(item: PreventionItem) -> str | None:
    """Why an item is weak (advice or a local fix), or None for a structural one."""
    if not item.structural:
        what = "advice" if item.kind == "advice" else f"a {item.kind.replace('_', ' ')}"
        return (f"{what} is not structural: it leaves the line as it was (eliminate, detect "
                "earlier, fail loudly or contain would harden it)")
    phrase = advice.advice_like(item.title)
    if phrase:
        return f"“{phrase}” reads as advice"
    return None


def counts_for_gate(item: PreventionItem) -> bool:
    return weakness(item) is None and item.status != PreventionStatus.DROPPED


def prevention_items(*, session: Session, review: Review) -> list[PreventionItem]:
    return prevention.items_for_incident(session=session, incident_id=review.incident_id)


def link_item(*, session: Session, review: Review, item_id: int, actor: User | None = None,
              actor_label: str = "") -> tuple[PreventionItem, bool]:
    """Link an existing prevention item to the review's incident; True when newly linked."""
    item = prevention.get(session=session, item_id=item_id)
    linked = prevention.link(session=session, incident=review.incident, item=item, actor=actor,
                             actor_label=actor_label)
    return item, linked


def unlink_item(*, session: Session, review: Review, item_id: int,
                actor: User | None = None) -> None:
    # Unlinking could take a published review below the gate, so it must be reopened first.
    _editable(review)
    item = prevention.get(session=session, item_id=item_id)
    prevention.unlink(session=session, incident=review.incident, item=item, actor=actor)


def linkable_items(*, session: Session, review: Review, limit: int = 200) -> list[PreventionItem]:
    """Open items not yet linked to this incident, newest first, for the link picker."""
    linked = select(PreventionLink.prevention_item_id).where(
        PreventionLink.incident_id == review.incident_id)
    return list(session.scalars(
        select(PreventionItem)
        .where(PreventionItem.id.not_in(linked),
               PreventionItem.status.not_in([PreventionStatus.DONE, PreventionStatus.DROPPED]))
        .order_by(PreventionItem.id.desc()).limit(limit)
    ))


# --- states and the publish gate ------------------------------------------------------------

def missing_for_publish(*, session: Session, review: Review,
                        items: list[PreventionItem] | None = None) -> list[str]:
    """The gate's codes (keys of GATE) this review does not yet satisfy, in the gate's order.

    `items` spares a query when the caller already holds the linked prevention items.
    """
    missing = []
    if incidents.get(session=session, incident_id=review.incident_id).is_open:
        missing.append("incident_resolved")
    if not review.findings:
        missing.append("station_finding")
    if review.defect_class is None:
        missing.append("defect_class")
    if items is None:
        items = prevention_items(session=session, review=review) if review.id else []
    if not any(counts_for_gate(item) for item in items):
        missing.append("structural_prevention_item")
    if open_flags(review):
        missing.append("blame_flags")
    if signoff.approval_missing(session=session, review=review):
        missing.append("approval")
    return missing


def publish(*, session: Session, review: Review, author: User | None = None,
            author_label: str = "") -> Review:
    """Publish, if the gate lets it through; otherwise Refused naming each missing piece."""
    if review.state == ReviewState.PUBLISHED:
        return review
    missing = missing_for_publish(session=session, review=review)
    if missing:
        still_open = [f.flag.phrase for f in open_flags(review)]
        details = [GATE[code] for code in missing]
        if still_open:
            details[-1] += " (open: " + ", ".join(f"“{p}”" for p in still_open[:5]) + ")"
        raise Refused("The review cannot be published yet. It needs " + "; ".join(details) + ".",
                      missing=missing)
    now = utcnow()
    _write(session, review, review.revision, author, author_label, state=ReviewState.PUBLISHED,
           published_at=now, published_by_id=author.id if author else None)
    _stamp_station_names(review, published=True)
    audit.record(session=session, action="review.published", entity_type="review",
                 entity_id=review.id, actor=author, actor_label=author_label,
                 incident_id=review.incident_id)
    return review


def _stamp_station_names(review: Review, *, published: bool) -> None:
    """Freeze each finding's station name at publish; a reopened review shows current names."""
    for finding in review.findings:
        finding.published_station_name = finding.station.name if published else None


def submit(*, session: Session, review: Review, author: User | None = None,
           author_label: str = "") -> Review:
    """Draft → in review: ask others to read it."""
    if review.state != ReviewState.DRAFT:
        raise Refused(f"only a draft can be sent for review (this one is {review.state})",
                      field="state")
    return _write(session, review, review.revision, author, author_label,
                  state=ReviewState.IN_REVIEW)


def reopen(*, session: Session, review: Review, author: User | None = None,
           author_label: str = "") -> Review:
    """Published → in review; publishing again passes the gate again."""
    if review.state != ReviewState.PUBLISHED:
        raise Refused("only a published review can be reopened", field="state")
    _write(session, review, review.revision, author, author_label,
           state=ReviewState.IN_REVIEW, published_at=None, published_by_id=None)
    _stamp_station_names(review, published=False)
    audit.record(session=session, action="review.reopened", entity_type="review",
                 entity_id=review.id, actor=author, actor_label=author_label)
    return review


def findings_per_station(*, session: Session) -> dict[int, int]:
    """How many review findings name each station (the line admin shows what removal keeps)."""
    rows = session.execute(select(StationFinding.station_id, func.count())
                           .group_by(StationFinding.station_id))
    return {station_id: count for station_id, count in rows}
