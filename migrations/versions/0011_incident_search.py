"""incident search: the words of each incident's title, description, service, timeline and
review, indexed by the database (a GIN index on PostgreSQL, an FTS5 table on SQLite)

Revision ID: 0011
Revises: 0013
Create Date: 2026-11-27
"""
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VECTOR = ("array_to_tsvector(array_remove(string_to_array("
          "incident_terms || ' ' || review_terms || ' ' || timeline_terms, ' '), ''))")
COLUMNS = "incident_terms, review_terms, timeline_terms"
NEW = "new.incident_terms, new.review_terms, new.timeline_terms"
OLD = "old.incident_terms, old.review_terms, old.timeline_terms"
SQLITE = [
    f"CREATE VIRTUAL TABLE incident_search_fts USING fts5({COLUMNS}, "
    "content='incident_search', content_rowid='incident_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER incident_search_ai AFTER INSERT ON incident_search BEGIN "
    f"INSERT INTO incident_search_fts(rowid, {COLUMNS}) VALUES (new.incident_id, {NEW}); END",
    f"CREATE TRIGGER incident_search_ad AFTER DELETE ON incident_search BEGIN "
    f"INSERT INTO incident_search_fts(incident_search_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.incident_id, {OLD}); END",
    f"CREATE TRIGGER incident_search_au AFTER UPDATE ON incident_search BEGIN "
    f"INSERT INTO incident_search_fts(incident_search_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.incident_id, {OLD}); "
    f"INSERT INTO incident_search_fts(rowid, {COLUMNS}) VALUES (new.incident_id, {NEW}); END",
]

# How incidents/incident/search.py cuts text into words, as of this revision.
WORD = re.compile(r"[^\W_]+")
MAX_TERM_LENGTH = 100
MAX_SECTION_CHARS = 100_000
BATCH = 500


def words(texts) -> str:
    seen = {}
    size = 0
    for text in texts:
        for match in WORD.finditer((text or "").lower()):
            word = match.group()[:MAX_TERM_LENGTH]
            if word in seen:
                continue
            size += len(word) + 1
            if size > MAX_SECTION_CHARS:
                return " ".join(seen)
            seen[word] = None
    return " ".join(seen)


def upgrade() -> None:
    op.create_table('incident_search',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('incident_terms', sa.Text(), nullable=False),
    sa.Column('review_terms', sa.Text(), nullable=False),
    sa.Column('timeline_terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_search_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_incident_search'))
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX ix_incident_search_terms ON incident_search USING gin ({VECTOR})")
    elif bind.dialect.name == 'sqlite':
        for statement in SQLITE:
            op.execute(statement)
    _fill(bind)


def _fill(bind) -> None:
    """Every incident's words, a batch of incidents at a time."""
    last = 0
    while True:
        incidents = bind.execute(sa.text(
            "SELECT id, title, description, service FROM incidents WHERE id > :last "
            "ORDER BY id LIMIT :batch"), {"last": last, "batch": BATCH}).all()
        if not incidents:
            return
        ids = {row.id: row for row in incidents}
        low, high = incidents[0].id, incidents[-1].id
        timeline = {i: [] for i in ids}
        for row in bind.execute(sa.text(
                "SELECT incident_id, text FROM timeline_events "
                "WHERE incident_id BETWEEN :low AND :high ORDER BY id"),
                {"low": low, "high": high}):
            timeline[row.incident_id].append(row.text)
        for row in bind.execute(sa.text(
                "SELECT e.incident_id, r.text FROM timeline_event_revisions r "
                "JOIN timeline_events e ON e.id = r.event_id "
                "WHERE e.incident_id BETWEEN :low AND :high ORDER BY r.id"),
                {"low": low, "high": high}):
            timeline[row.incident_id].append(row.text)
        reviews = dict(bind.execute(sa.text(
            "SELECT incident_id, markdown FROM reviews WHERE incident_id BETWEEN :low AND :high"),
            {"low": low, "high": high}).all())
        bind.execute(sa.text(
            "INSERT INTO incident_search (incident_id, incident_terms, review_terms, "
            "timeline_terms) VALUES (:id, :incident, :review, :timeline)"),
            [{"id": i, "incident": words([row.title, row.description, row.service]),
              "review": words([reviews.get(i) or ""]), "timeline": words(timeline[i])}
             for i, row in ids.items()])
        last = high


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS incident_search_fts")
    op.drop_table('incident_search')
