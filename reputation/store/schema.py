"""The tables. Alembic migrations create them; this module is what code queries.

Keys are text (`platform:native_id` for mentions) so that the same rows mean the
same thing on SQLite and PostgreSQL and in log lines.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# Timestamps are stored as timezone-aware on PostgreSQL; on SQLite the store
# converts them back to UTC-aware datetimes when it reads them.
Timestamp = DateTime(timezone=True)

authors = Table(
    "authors",
    metadata,
    Column("key", String(600), primary_key=True, comment="platform:author id"),
    Column("platform", String(40), nullable=False),
    Column("native_id", String(512), nullable=False),
    Column("handle", String(300), nullable=False, default=""),
    Column("followers", Integer),
    Column("first_seen_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index("ix_authors_handle", "handle"),
)

mentions = Table(
    "mentions",
    metadata,
    Column("key", String(600), primary_key=True, comment="platform:native_id"),
    Column("platform", String(40), nullable=False),
    Column("native_id", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("url", Text, nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("author_key", String(600), ForeignKey("authors.key"), nullable=False),
    Column("parent_key", String(600)),
    Column("root_key", String(600), comment="as the platform gave it; cascades resolve missing ones"),
    Column("quoted_key", String(600), comment="the post it quotes, also when it is a reply"),
    Column("score", Integer),
    Column("likes", Integer),
    Column("reshares", Integer),
    Column("replies", Integer),
    Column("rating", Float),
    Column("language", String(16)),
    Column("brand", String(200)),
    Column("query", Text),
    Column("source", String(100), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("fetched_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("pending", Boolean, nullable=False, comment="new or edited, not yet enriched"),
    UniqueConstraint("platform", "native_id", name="uq_mentions_platform_native_id"),
    Index("ix_mentions_created_at", "created_at"),
    Index("ix_mentions_author_key", "author_key"),
    Index("ix_mentions_parent_key", "parent_key"),
    Index("ix_mentions_brand_created_at", "brand", "created_at"),
    # Partial: only the few pending rows are in it. A plain index on a boolean holds every row, and once
    # ANALYZE has seen a million enriched ones the planner scans the table instead (0.3 s a cycle).
    Index("ix_mentions_pending", "pending", sqlite_where=text("pending = 1"), postgresql_where=text("pending")),
)

enrichments = Table(
    "enrichments",
    metadata,
    Column("mention_key", String(600), ForeignKey("mentions.key", ondelete="CASCADE"), primary_key=True),
    Column("language", String(16)),
    Column("sentiment", String(8), nullable=False),
    Column("compound", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("intents", JSON, nullable=False),
    Column("needs_help", Boolean, nullable=False),
    Column("issue_id", String(40)),
    Column("cascade_key", String(600), nullable=False),
    Column("enriched_at", Timestamp, nullable=False),
    # Partial: most posts are no complaint, and an index full of NULLs made SQLite's
    # statistics call every issue a million rows, so it scanned the table instead.
    Index(
        "ix_enrichments_issue_id",
        "issue_id",
        sqlite_where=text("issue_id IS NOT NULL"),
        postgresql_where=text("issue_id IS NOT NULL"),
    ),
    Index("ix_enrichments_cascade_key", "cascade_key"),
)

issues = Table(
    "issues",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("brand", String(200)),
    Column("label", String(200), nullable=False),
    Column("label_locked", Boolean, nullable=False, default=False, comment="a human named it"),
    Column("terms", JSON, nullable=False, comment="term -> weight; the issue's profile"),
    Column("size", Integer, nullable=False, default=0),
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("merged_into", String(40)),
    Column("centroid", LargeBinary, comment="float32 mean of the members' unit embeddings"),
    Column("embedder", String(60), nullable=False, default="", comment="which embedder the centroid comes from"),
    Column("examples", JSON, nullable=False, default=list, comment="the most typical posts"),
    Column(
        "reviewed_size",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        comment="its size when last checked for a split",
    ),
    Column("topic_id", String(40), comment="the topic it belongs to; null while unsorted (too few posts)"),
)

topics = Table(
    "topics",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("brand", String(200)),
    Column("label", String(200), nullable=False),
    Column("label_locked", Boolean, nullable=False, default=False, comment="a human named it"),
    Column("size", Integer, nullable=False, default=0, comment="posts in its issues"),
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("merged_into", String(40)),
    Column("centroid", LargeBinary, comment="float32 size-weighted mean of its issues' centroids"),
    Column("embedder", String(60), nullable=False, default=""),
)

issue_granularity = Table(
    "issue_granularity",
    metadata,
    Column("brand", String(200), primary_key=True, comment="empty for mentions of no brand"),
    Column("embedder", String(60), primary_key=True),
    Column("join_similarity", Float, nullable=False, comment="chosen from the brand's first complaints"),
    Column("chosen_at", Timestamp, nullable=False),
)

issue_changes = Table(
    "issue_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("issue_id", String(40), nullable=False),
    Column("change", String(20), nullable=False, comment="merged | renamed | split"),
    Column("other_id", String(40), comment="the issue it was merged into, or the one split off it"),
    Column("detail", String(200), comment="new label, the similarity that merged, or what was split off"),
)

cascades = Table(
    "cascades",
    metadata,
    Column("root_key", String(600), primary_key=True),
    Column("platform", String(40), nullable=False),
    Column("brand", String(200)),
    Column("root_seen", Boolean, nullable=False, comment="false while the root post was never fetched"),
    Column("size", Integer, nullable=False, comment="events after the root"),
    Column("depth", Integer, nullable=False),
    Column("authors", Integer, nullable=False),
    Column("reach", Integer, nullable=False, comment="sum of known followers, root included"),
    Column("velocity_per_hour", Float, nullable=False, comment="events in the last hour of activity"),
    Column("negative_share", Float, nullable=False, comment="of the replies and quotes"),
    Column("predicted_final", Float),
    Column("predicted_low", Float, comment="low end of the 90% interval around predicted_final"),
    Column("predicted_high", Float, comment="high end of that interval"),
    Column("prediction_uncertain", Boolean, comment="the forecast is too loose to act on"),
    Column("exposure", Float, comment="followers who have likely seen it by now (SEISMIC's kernel-weighted marks)"),
    Column("size_series", JSON, comment="[[hours since the root, events so far], ...] per hour"),
    Column("started_at", Timestamp, nullable=False),
    Column("last_event_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

spread_priors = Table(
    "spread_priors",
    metadata,
    Column("key", String(40), primary_key=True, comment="whose history: 'store'"),
    Column("prior", JSON, nullable=False, comment="reputation.spread.prior.Prior as JSON: the cells learned"),
    Column("learned_at", Timestamp, nullable=False),
)

connector_state = Table(
    "connector_state",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

source_runs = Table(
    "source_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Column("fetched", Integer, nullable=False, default=0),
    Column("stored", Integer, nullable=False, default=0),
    Column("error", Text),
    Column(
        "degraded", Integer, nullable=False, default=0, server_default="0", comment="items kept with a field missing"
    ),
    Index("ix_source_runs_source_started_at", "source", "started_at"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("story_key", String(700), nullable=False, unique=True, comment="one incident per story"),
    Column("rule", String(40), nullable=False),
    Column("brand", String(200)),
    Column("severity", Integer, nullable=False),
    Column("status", String(20), nullable=False, default="open"),
    Column("title", Text, nullable=False),
    Column("mention_key", String(600)),
    Column("author_key", String(600)),
    Column("level", Float, nullable=False, default=0, comment="the size last announced, for escalation"),
    Column("details", JSON, nullable=False),
    Column("opened_at", Timestamp, nullable=False),
    Column("first_seen_at", Timestamp, nullable=False, comment="when the triggering post was created"),
    Column("acknowledged_at", Timestamp),
    Column("resolved_at", Timestamp),
    Column("updated_at", Timestamp, nullable=False),
    Column("assignee", String(40), comment="Slack user id"),
    Column("followed_up_at", Timestamp, comment="when the SLA reminder went out"),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("signature", String(100), nullable=False, unique=True, comment="a replayed request has the same one"),
    Column("received_at", Timestamp, nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Column("user_id", String(40), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("value", String(200)),
    Index("ix_interactions_incident_id", "incident_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(800), nullable=False, unique=True, comment="incident, announcement and route"),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("route", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("claimed_until", Timestamp, comment="a worker's lease while it sends"),
    Column("sent_at", Timestamp),
    Column("failed_at", Timestamp, comment="gave up after max attempts"),
    Column("last_error", Text),
    Index("ix_outbox_pending", "sent_at", "failed_at", "next_attempt_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("mention_key", Text, nullable=False, comment="platform:native_id as it came, clipped"),
    Column("error", Text, nullable=False, comment="why the store refused the row"),
    Column("record", Text, nullable=False, comment="the mention as ASCII-escaped JSON, for a replay once fixed"),
    Column("quarantined_at", Timestamp, nullable=False),
    Index("ix_quarantine_source", "source"),
)

outbox_routes = Table(
    "outbox_routes",
    metadata,
    Column("route", String(100), primary_key=True),
    Column("paused_until", Timestamp, nullable=False, comment="no row of the route is sent before this"),
    Column("failures", Integer, nullable=False, default=0, comment="sends failed in a row; sets the backoff"),
    Column("last_error", Text),
    Column("updated_at", Timestamp, nullable=False),
)
