"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from incidents.line.service import DEFAULT_LINE


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_key'), ['key'], unique=False)

    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('catches', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations'))
    )
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stations_position'), ['position'], unique=False)

    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('slack_channel_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('sender_settings',
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('default_severity', sa.String(length=4), nullable=False),
    sa.Column('default_team_id', sa.Integer(), nullable=True),
    sa.Column('service_teams', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['default_team_id'], ['teams.id'], name=op.f('fk_sender_settings_default_team_id_teams')),
    sa.PrimaryKeyConstraint('sender', name=op.f('pk_sender_settings'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('slack_user_id', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_users_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('slack_user_id', name=op.f('uq_users_slack_user_id'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('service', sa.String(length=200), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('dedup_key', sa.String(length=255), nullable=True),
    sa.Column('open_dedup_key', sa.String(length=255), nullable=True),
    sa.Column('slack_channel_id', sa.String(length=40), nullable=True),
    sa.Column('slack_channel_name', sa.String(length=80), nullable=True),
    sa.Column('detection_method', sa.String(length=20), nullable=False),
    sa.Column('change_origin', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['declared_by_id'], ['users.id'], name=op.f('fk_incidents_declared_by_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incidents_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('slack_channel_id', name=op.f('uq_incidents_slack_channel_id')),
    sa.UniqueConstraint('source', 'open_dedup_key', name=op.f('uq_incidents_source_open_dedup_key'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_dedup_key'), ['dedup_key'], unique=False)
        batch_op.create_index('ix_incidents_dedup_key_started_at', ['dedup_key', 'started_at'], unique=False)
        batch_op.create_index('ix_incidents_service_id', ['service', 'id'], unique=False)
        batch_op.create_index('ix_incidents_service_started_at', ['service', 'started_at'], unique=False)
        batch_op.create_index('ix_incidents_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_incidents_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_team_id'), ['team_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('delivery_key', sa.String(length=255), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_deliveries_incident_id_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('sender', 'delivery_key', name=op.f('uq_deliveries_sender_delivery_key'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_incident_id'), ['incident_id'], unique=False)

    op.create_table('dismissed_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('dismissed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['incidents.id'], name=op.f('fk_dismissed_candidates_candidate_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dismissed_by_id'], ['users.id'], name=op.f('fk_dismissed_candidates_dismissed_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_dismissed_candidates_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dismissed_candidates')),
    sa.UniqueConstraint('incident_id', 'candidate_id', name=op.f('uq_dismissed_candidates_incident_id_candidate_id'))
    )
    op.create_table('prevention_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('owner_team_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('tracker_url', sa.String(length=2000), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('dropped_reason', sa.Text(), nullable=True),
    sa.Column('guard_url', sa.String(length=2000), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escaped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escaped_by_incident_id', sa.Integer(), nullable=True),
    sa.Column('last_reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_prevention_items_created_by_id_users')),
    sa.ForeignKeyConstraint(['escaped_by_incident_id'], ['incidents.id'], name=op.f('fk_prevention_items_escaped_by_incident_id_incidents')),
    sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'], name=op.f('fk_prevention_items_owner_team_id_teams')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_prevention_items_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prevention_items'))
    )
    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prevention_items_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_prevention_items_owner_team_id'), ['owner_team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prevention_items_station_id'), ['station_id'], unique=False)
        batch_op.create_index('ix_prevention_items_status_due', ['status', 'due_date'], unique=False)

    op.create_table('recurrence_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('earlier_incident_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('incident_id <> earlier_incident_id', name=op.f('ck_recurrence_links_not_self')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_recurrence_links_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['earlier_incident_id'], ['incidents.id'], name=op.f('fk_recurrence_links_earlier_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_recurrence_links_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurrence_links')),
    sa.UniqueConstraint('incident_id', 'earlier_incident_id', name=op.f('uq_recurrence_links_incident_id_earlier_incident_id'))
    )
    with op.batch_alter_table('recurrence_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recurrence_links_earlier_incident_id'), ['earlier_incident_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('defect_class', sa.String(length=20), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_reviews_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_reviews_published_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_reviews_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_reviews_incident_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_defect_class'), ['defect_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_state'), ['state'], unique=False)

    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('link', sa.String(length=2000), nullable=True),
    sa.Column('external_key', sa.String(length=255), nullable=True),
    sa.Column('fingerprint', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_timeline_events_author_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_timeline_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events')),
    sa.UniqueConstraint('incident_id', 'external_key', name=op.f('uq_timeline_events_incident_id_external_key'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_events_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index('ix_timeline_events_incident_occurred', ['incident_id', 'occurred_at'], unique=False)

    op.create_table('kept_blame_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('phrase', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('kept_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kept_by_id'], ['users.id'], name=op.f('fk_kept_blame_flags_kept_by_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_kept_blame_flags_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_blame_flags')),
    sa.UniqueConstraint('review_id', 'rule', 'phrase', name=op.f('uq_kept_blame_flags_review_id_rule_phrase'))
    )
    op.create_table('prevention_links',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('prevention_item_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_prevention_links_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prevention_item_id'], ['prevention_items.id'], name=op.f('fk_prevention_links_prevention_item_id_prevention_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'prevention_item_id', name=op.f('pk_prevention_links'))
    )
    with op.batch_alter_table('prevention_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prevention_links_prevention_item_id'), ['prevention_item_id'], unique=False)

    op.create_table('review_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('defect_class', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_review_revisions_author_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_revisions_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_revisions')),
    sa.UniqueConstraint('review_id', 'revision', name=op.f('uq_review_revisions_review_id_revision'))
    )
    op.create_table('station_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('cheapest', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_station_findings_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_findings_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_station_findings')),
    sa.UniqueConstraint('review_id', 'station_id', name=op.f('uq_station_findings_review_id_station_id'))
    )
    with op.batch_alter_table('station_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_station_findings_station_id'), ['station_id'], unique=False)
        batch_op.create_index('uq_station_findings_one_cheapest', ['review_id'], unique=True, sqlite_where=sa.text('cheapest'), postgresql_where=sa.text('cheapest'))

    op.create_table('timeline_event_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['timeline_events.id'], name=op.f('fk_timeline_event_revisions_event_id_timeline_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['users.id'], name=op.f('fk_timeline_event_revisions_replaced_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_event_revisions'))
    )
    with op.batch_alter_table('timeline_event_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_event_revisions_event_id'), ['event_id'], unique=False)

    # Seed the default line. It runs once per database, so later edits to DEFAULT_LINE
    # change new installs only.
    stations = sa.table(
        "stations",
        sa.column("name", sa.String), sa.column("position", sa.Integer),
        sa.column("catches", sa.Text), sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(stations, [
        {"name": name, "position": position, "catches": catches, "created_at": now}
        for position, (name, catches) in enumerate(DEFAULT_LINE, start=1)
    ])


def downgrade() -> None:
    with op.batch_alter_table('timeline_event_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_event_revisions_event_id'))

    op.drop_table('timeline_event_revisions')
    with op.batch_alter_table('station_findings', schema=None) as batch_op:
        batch_op.drop_index('uq_station_findings_one_cheapest', sqlite_where=sa.text('cheapest'), postgresql_where=sa.text('cheapest'))
        batch_op.drop_index(batch_op.f('ix_station_findings_station_id'))

    op.drop_table('station_findings')
    op.drop_table('review_revisions')
    with op.batch_alter_table('prevention_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prevention_links_prevention_item_id'))

    op.drop_table('prevention_links')
    op.drop_table('kept_blame_flags')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_events_incident_occurred')
        batch_op.drop_index(batch_op.f('ix_timeline_events_fingerprint'))

    op.drop_table('timeline_events')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_state'))
        batch_op.drop_index(batch_op.f('ix_reviews_published_at'))
        batch_op.drop_index(batch_op.f('ix_reviews_defect_class'))

    op.drop_table('reviews')
    with op.batch_alter_table('recurrence_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurrence_links_earlier_incident_id'))

    op.drop_table('recurrence_links')
    with op.batch_alter_table('prevention_items', schema=None) as batch_op:
        batch_op.drop_index('ix_prevention_items_status_due')
        batch_op.drop_index(batch_op.f('ix_prevention_items_station_id'))
        batch_op.drop_index(batch_op.f('ix_prevention_items_owner_team_id'))
        batch_op.drop_index(batch_op.f('ix_prevention_items_kind'))

    op.drop_table('prevention_items')
    op.drop_table('dismissed_candidates')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_incident_id'))

    op.drop_table('deliveries')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_team_id'))
        batch_op.drop_index('ix_incidents_status_id')
        batch_op.drop_index('ix_incidents_started_at')
        batch_op.drop_index('ix_incidents_service_started_at')
        batch_op.drop_index('ix_incidents_service_id')
        batch_op.drop_index('ix_incidents_dedup_key_started_at')
        batch_op.drop_index(batch_op.f('ix_incidents_dedup_key'))

    op.drop_table('incidents')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')

    op.drop_table('audit_log')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('sender_settings')
    op.drop_table('teams')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stations_position'))

    op.drop_table('stations')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_key'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_attempted_at'))

    op.drop_table('login_attempts')
