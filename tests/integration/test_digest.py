"""The daily digest on real stores: its numbers against SQL, honest pages for bad days, sending.

The store is filled the way production fills it: a replay source through
`run_cycle` (collect, enrich, detect). Every figure the digest shows is then
recomputed here with SQL aggregates over the same tables.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Connection, distinct, func, select, update

from alerts.digest import build_digests, render_html, send_digest, write_digest
from alerts.digest.records import BrandDigest
from alerts.digest.summary import day_heading
from reputation.alerting import load_alerting
from reputation.config import Config
from reputation.errors import ConfigError
from reputation.models import Author, Mention
from reputation.pipeline import run_cycle
from reputation.spread.spikes import upper_tail
from reputation.store import Store, as_utc
from reputation.store.schema import authors, cascades, enrichments, incidents, mentions, source_runs
from reputation.wording import format_p
from tests.conftest import make_config
from tests.factories import mention
from tests.scenario import story

ZONE = "America/New_York"  # has DST, and is far enough from UTC to move day boundaries
SECTIONS = ("summary", "emerging", "issues", "spreading", "incidents", "repeat-complainers", "collection-health")


def story_noon(zone: ZoneInfo) -> datetime:
    """Noon of the latest local day whose noon has passed: the story (06:00-08:30) fits in that day."""
    local = datetime.now(UTC).astimezone(zone)
    day = local.date() if local.hour >= 12 else local.date() - timedelta(days=1)
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)


def history(noon: datetime) -> list[Mention]:
    """Three and two days before the story: complaints and praise; the day before it is empty.

    One complaint three days back says what five people say on the story day, so that
    issue is spiking (5 posts vs 1/3 expected); the story's other issues are new.
    """
    lines = [
        (3, "old30", "Voltmart refund still not processed after three weeks, awful service"),
        (3, "old31", "Voltmart refund still not processed after three weeks, awful service"),
        (3, "old32", "This is terrible, Voltmart should be ashamed"),
        (3, "happy3", "Love my new Voltbook from Voltmart, great service!"),
        (2, "old20", "Voltmart refund still not processed after three weeks, awful service"),
        (2, "happy2", "Love my new Voltbook from Voltmart, great service!"),
    ]
    return [
        mention(
            native_id,
            text,
            created_at=noon - timedelta(days=back, minutes=10 * index),
            author=Author(id=native_id, handle=f"user_{native_id}", followers=50),
        )
        for index, (back, native_id, text) in enumerate(lines)
    ]


@dataclass
class World:
    store: Store
    config: Config
    story_day: date
    today: date
    zone: ZoneInfo


def fill(store: Store, config: Config) -> None:
    report = run_cycle(store, config, load_alerting(), env={})
    assert report.alerts, "the scenario should open incidents"


def scenario_config(path: Path, **overrides: object) -> Config:
    data: dict[str, object] = {
        "brands": [
            {
                "name": "Voltmart",
                "aliases": ["Volt Mart", "@Voltmart"],
                "keywords": {"include": ["voltbook*"]},
                "timezone": ZONE,
            }
        ],
        "sources": [{"name": "story", "type": "replay", "options": {"path": str(path)}}],
        "alerts": {
            "rules": {
                "detractor": {"min_reach": 20000, "min_cascade": 10},
                # The story holds days, not weeks: a short warm-up, and a test a handful of posts can pass.
                "issue_spike": {"min_history_days": 3, "p_threshold": 0.01},
            }
        },
    }
    data.update(overrides)
    return make_config(**data)


def write_world(tmp_path: Path) -> Path:
    noon = story_noon(ZoneInfo(ZONE))
    path = tmp_path / "world.jsonl"
    records = [*history(noon), *story(noon)]
    path.write_text("\n".join(json.dumps(m.to_json_dict()) for m in records) + "\n")
    return path


@pytest.fixture
def world(store: Store, tmp_path: Path) -> World:
    config = scenario_config(write_world(tmp_path))
    fill(store, config)
    zone = ZoneInfo(ZONE)
    with store.transaction() as connection:
        rows = connection.execute(select(incidents).order_by(incidents.c.id)).all()
        by_rule = {row.rule: row for row in rows}
        # A person acknowledges the detractor 12 minutes after the alert, and resolves the repeat complaint.
        detractor = by_rule["detractor"]
        connection.execute(
            update(incidents)
            .where(incidents.c.id == detractor.id)
            .values(status="acknowledged", acknowledged_at=as_utc(detractor.opened_at) + timedelta(minutes=12))
        )
        repeat = by_rule["repeat_complainer"]
        connection.execute(
            update(incidents)
            .where(incidents.c.id == repeat.id)
            .values(status="resolved", resolved_at=as_utc(repeat.opened_at) + timedelta(minutes=1))
        )
    return World(store, config, story_noon(zone).astimezone(zone).date(), datetime.now(zone).date(), zone)


def digest_for(world: World, day: date, config: Config | None = None) -> BrandDigest:
    (digest,) = build_digests(world.store, config or world.config, day=day, brand="Voltmart")
    return digest


# -- numbers against SQL ------------------------------------------------------------------------------


def sql_sentiments(connection: Connection, start: datetime, end: datetime) -> dict[str, int]:
    rows = connection.execute(
        select(enrichments.c.sentiment, func.count())
        .select_from(mentions.join(enrichments, enrichments.c.mention_key == mentions.c.key))
        .where(mentions.c.brand == "Voltmart", mentions.c.created_at >= start, mentions.c.created_at < end)
        .group_by(enrichments.c.sentiment)
    ).all()
    return {sentiment: count for sentiment, count in rows}


def sql_issue_counts(connection: Connection, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    rows = connection.execute(
        select(enrichments.c.issue_id, func.count(), func.count(distinct(func.lower(authors.c.handle))))
        .select_from(
            mentions.join(enrichments, enrichments.c.mention_key == mentions.c.key).join(
                authors, authors.c.key == mentions.c.author_key
            )
        )
        .where(
            mentions.c.brand == "Voltmart",
            mentions.c.created_at >= start,
            mentions.c.created_at < end,
            enrichments.c.issue_id.is_not(None),
        )
        .group_by(enrichments.c.issue_id)
    ).all()
    return {issue_id: (posts, people) for issue_id, posts, people in rows}


@pytest.mark.parametrize("starts", [time(0, 0), time(9, 30)], ids=["midnight", "day-from-09:30"])
def test_every_number_matches_the_store(world: World, starts: time) -> None:
    config = world.config.with_digest(day_starts_at=starts)
    spike = config.alerts.rules.issue_spike
    for day in sorted({world.story_day, world.today, world.story_day - timedelta(days=1)}):
        digest = digest_for(world, day, config)
        start, end = config.digest.day_bounds(day, world.zone)
        assert start.astimezone(world.zone).time() == end.astimezone(world.zone).time() == starts
        with world.store.engine.connect() as connection:
            # Volume and sentiment, day by day.
            for volume in digest.volumes:
                vstart, vend = config.digest.day_bounds(volume.day, world.zone)
                counts = sql_sentiments(connection, vstart, vend)
                assert (volume.negative, volume.neutral, volume.positive) == (
                    counts.get("negative", 0),
                    counts.get("neutral", 0),
                    counts.get("positive", 0),
                ), volume.day

            # Issues: posts and people on the day, expected from the baseline days before.
            today = sql_issue_counts(connection, start, end)
            assert {line.id: (line.today, line.authors) for line in digest.issues} == {
                issue_id: today[issue_id] for issue_id in (line.id for line in digest.issues)
            }
            assert len(digest.issues) == min(len(today), 8)
            assert sorted((-n, i) for i, (n, _) in today.items())[: len(digest.issues)] == [
                (-line.today, line.id) for line in digest.issues
            ]
            baseline_start, _ = config.digest.day_bounds(day - timedelta(days=spike.baseline_days), world.zone)
            before = sql_issue_counts(connection, baseline_start, start)
            for line in digest.emerging:
                assert line.status in ("new", "spiking")
                if line.status == "spiking":
                    # reputation.issues.trends: significant against an expectation of at least half a post a day.
                    assert line.expected is not None and line.expected >= 0.5
                    assert line.today >= spike.min_ratio * line.expected and line.p_value <= spike.p_threshold
                else:
                    assert before.get(line.id) is None

            # Spread: the cascades that grew on the day, with their stored size, reach and prediction.
            grew = connection.execute(
                select(enrichments.c.cascade_key, func.count())
                .select_from(mentions.join(enrichments, enrichments.c.mention_key == mentions.c.key))
                .where(
                    mentions.c.brand == "Voltmart",
                    mentions.c.created_at >= start,
                    mentions.c.created_at < end,
                    enrichments.c.cascade_key != mentions.c.key,
                )
                .group_by(enrichments.c.cascade_key)
            ).all()
            stored = {
                row.root_key: row
                for row in connection.execute(select(cascades).where(cascades.c.root_key.in_([k for k, _ in grew])))
            }
            assert len(digest.spreading) == min(len([k for k, _ in grew if stored[k].size > 0]), 5)
            events = dict(grew)
            for line, key in zip(digest.spreading, sorted(stored, key=lambda k: (-stored[k].size, k)), strict=False):
                row = stored[key]
                assert (line.size, line.reach, line.authors, line.events_on_day) == (
                    row.size,
                    row.reach,
                    row.authors,
                    events[key],
                )
                assert line.predicted_final == row.predicted_final
                assert (line.predicted_low, line.predicted_high) == (row.predicted_low, row.predicted_high)
                assert line.prediction_uncertain == row.prediction_uncertain

            # Incidents: counts in the day, medians of time to alert and to acknowledge.
            rows = connection.execute(select(incidents).where(incidents.c.brand == "Voltmart")).all()

            def during(value: datetime | None, start: datetime = start, end: datetime = end) -> bool:
                return value is not None and start <= as_utc(value) < end

            opened = [row for row in rows if during(row.opened_at)]
            stats = digest.incident_stats
            assert stats.opened == len(opened) == len(digest.incidents)
            assert stats.acknowledged == sum(during(row.acknowledged_at) for row in rows)
            assert stats.resolved == sum(during(row.resolved_at) for row in rows)
            minutes = [(as_utc(r.opened_at) - as_utc(r.first_seen_at)).total_seconds() / 60 for r in opened]
            assert stats.minutes_to_alert == (pytest.approx(statistics.median(minutes)) if minutes else None)
            acks = [
                (as_utc(r.acknowledged_at) - as_utc(r.opened_at)).total_seconds() / 60
                for r in opened
                if r.acknowledged_at
            ]
            assert stats.minutes_to_acknowledge == (pytest.approx(statistics.median(acks)) if acks else None)

            # Collection health: runs, failures and new mentions stored on the day.
            runs = connection.execute(
                select(func.count(), func.coalesce(func.sum(source_runs.c.stored), 0)).where(
                    source_runs.c.source == "story",
                    source_runs.c.started_at >= start,
                    source_runs.c.started_at < end,
                )
            ).one()
            (health,) = digest.health
            assert (health.runs, health.stored) == (runs[0], runs[1])


def test_the_story_day_reads_as_it_happened(world: World) -> None:
    digest = digest_for(world, world.story_day)
    assert digest.today.total == 20 and digest.today.negative > digest.today.positive
    assert digest.average_before == pytest.approx((4 + 2 + 0) / 3)  # three monitored days before
    assert [v.monitored for v in digest.volumes] == [False] * 3 + [True] * 4
    assert digest.spreading[0].handle == "maya_builds" and digest.spreading[0].size == 14
    (dan,) = digest.repeat_complainers
    assert dan.handle == "dan_okafor" and dan.occasions == 3 and dan.platforms == ["reddit", "x"]
    # "Terrible, ashamed" was said once three days before: spiking, with its numbers; the rest is new.
    (spiking,) = [line for line in digest.emerging if line.status == "spiking"]
    # Its mean of 1/3 a day is under the floor of half a post; 3 days of history widen the spread.
    assert (spiking.today, spiking.authors, spiking.expected) == (5, 5, 0.5)
    assert spiking.p_value == pytest.approx(upper_tail(5, 0.5, (0.5 + 0.25 * 0.5**2) * (1 + 1 / 3)))
    assert not spiking.alert_level  # 5 posts: under the alert rule's 8
    assert {line.status for line in digest.emerging} == {"new", "spiking"}
    assert all(line.authors >= 2 for line in digest.emerging)
    html = render_html([digest], datetime.now(UTC))
    for section in SECTIONS:
        assert f'id="{section}"' in html
    assert f"5 posts from 5 people vs 0.5 expected (p={format_p(spiking.p_value)})" in html
    assert "no data" in html  # the days before monitoring began are not drawn as zero
    # Each top issue shows the id that `issues.rename` and `issues.merge` take.
    assert all(f'<code title="the id to rename or merge it by">{line.id}</code>' in html for line in digest.issues)
    # The spread line shows the range; an uncertain forecast shows only the range.
    line = digest.spreading[0]
    sure = dataclasses.replace(line, predicted_final=41.0, predicted_low=20.0, predicted_high=150.0)
    unsure = dataclasses.replace(sure, prediction_uncertain=True)
    html = render_html([dataclasses.replace(digest, spreading=[sure])], datetime.now(UTC))
    assert '41 <span class="muted">(20&ndash;150)</span>' in html
    html = render_html([dataclasses.replace(digest, spreading=[unsure])], datetime.now(UTC))
    assert '<span class="muted">uncertain,</span> 20&ndash;150' in html and ">41<" not in html


def test_an_empty_day_says_so(world: World) -> None:
    day = world.story_day - timedelta(days=1)
    digest = digest_for(world, day)
    assert digest.today.total == 0 and digest.has_data
    assert digest.issues == [] and digest.emerging == [] and digest.spreading == []
    html = render_html([digest], datetime.now(UTC))
    assert "No mentions of Voltmart on this day" in html
    assert "No complaint issues on this day." in html
    assert html.count('<svg class="chart') == 2
    # No source ran that day (the replay caught up later): the page cannot tell a quiet day from
    # missing data, and says so instead of reporting calm.
    assert digest.collection_down and "story (no runs)" in html and "missing data" in html


def test_a_brand_with_no_data_gets_an_honest_page(world: World, tmp_path: Path) -> None:
    config = scenario_config(
        tmp_path / "world.jsonl",
        brands=[
            {"name": "Voltmart", "aliases": ["@Voltmart"], "timezone": ZONE},
            {"name": "Quietco", "aliases": ["Quietco"], "timezone": "Asia/Tokyo"},
        ],
        sources=[{"name": "story", "type": "replay", "brands": ["Voltmart"], "options": {"path": "x"}}],
    )
    (quiet,) = build_digests(world.store, config, day=None, brand="Quietco")
    assert not quiet.has_data and quiet.health == [] and quiet.average_before is None
    html = render_html([quiet], datetime.now(UTC))
    assert "No mentions of Quietco are stored yet" in html
    for section in SECTIONS:
        assert f'id="{section}"' in html
    both = render_html(build_digests(world.store, config, day=None, brand=None), datetime.now(UTC))
    assert 'id="brand-voltmart-summary"' in both and 'id="brand-quietco-summary"' in both


def test_a_source_outage_is_on_the_page(store: Store, tmp_path: Path) -> None:
    good = write_world(tmp_path)
    config = scenario_config(
        good,
        sources=[
            {"name": "broken", "type": "replay", "options": {"path": str(tmp_path / "missing.jsonl")}},
            {"name": "story", "type": "replay", "options": {"path": str(good)}},
        ],
    )
    fill(store, config)
    (digest,) = build_digests(store, config, day=None, brand=None)
    status = {source.source: source.status for source in digest.health}
    assert status == {"broken": "failing", "story": "ok"}
    html = render_html([digest], datetime.now(UTC))
    assert 'id="collection-warning"' in html and "broken (failing)" in html
    assert "missing.jsonl does not exist" in html


def test_every_source_down_is_missing_data_not_a_quiet_day(store: Store, tmp_path: Path) -> None:
    noon = story_noon(ZoneInfo(ZONE))
    older = tmp_path / "older.jsonl"
    older.write_text("\n".join(json.dumps(m.to_json_dict()) for m in history(noon)) + "\n")
    fill_config = scenario_config(older)
    run_cycle(store, fill_config, load_alerting(), env={})
    down = scenario_config(older, sources=[{"name": "broken", "type": "replay", "options": {"path": "/nope.jsonl"}}])
    run_cycle(store, down, load_alerting(), env={})
    (digest,) = build_digests(store, down, day=None, brand=None)
    assert digest.today.total == 0 and digest.has_data and digest.collection_down
    html = render_html([digest], datetime.now(UTC))
    assert "Nothing was collected for Voltmart on this day, and no source ran cleanly on it" in html
    assert "broken (failing)" in html and "missing data, not as a quiet day" in html
    assert "No mentions of Voltmart on this day" in html


def test_day_bounds_follow_the_brand_time_zone_across_dst() -> None:
    config = make_config(brands=[{"name": "A", "timezone": ZONE}])
    start, end = config.digest.day_bounds(date(2026, 3, 8), config.brand("A").zone)  # clocks go forward: 23 hours
    assert start == datetime(2026, 3, 8, 5, tzinfo=UTC) and end - start == timedelta(hours=23)


def test_a_day_that_starts_at_eight_runs_to_eight_and_is_named_by_its_first_date() -> None:
    config = make_config(brands=[{"name": "A", "timezone": ZONE}], digest={"day_starts_at": "08:00"})
    zone = config.brand("A").zone
    start, end = config.digest.day_bounds(date(2026, 3, 8), zone)
    # 08:00 falls after that night's DST change on both dates: 24 hours, both at 12:00 UTC.
    assert (start, end) == (datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 3, 9, 12, tzinfo=UTC))
    before_eight = datetime(2026, 3, 9, 7, 59, tzinfo=zone)
    assert config.digest.day_of(before_eight, zone) == date(2026, 3, 8)
    assert config.digest.day_of(before_eight + timedelta(minutes=1), zone) == date(2026, 3, 9)
    with pytest.raises(ConfigError, match=r"digest\.day_starts_at"):
        make_config(digest={"day_starts_at": "08:00+02:00"})
    with pytest.raises(ConfigError, match=r"digest\.day_starts_at"):
        make_config(digest={"day_starts_at": "25:00"})
    unquoted = yaml.safe_load("day_starts_at: 8:30")["day_starts_at"]  # YAML 1.1 base 60: 510
    with pytest.raises(ConfigError, match=r'digest\.day_starts_at: write the time in quotes, as "08:30"'):
        make_config(digest={"day_starts_at": unquoted})


def test_public_url_is_validated() -> None:
    assert make_config(digest={"public_url": "https://intra.example.com/digests"}).digest.public_url
    with pytest.raises(ConfigError, match=r"digest\.public_url"):
        make_config(digest={"public_url": "javascript:alert(1)"})


# -- Slack and email ----------------------------------------------------------------------------------


def test_page_and_slack_summary_escape_everything_from_the_internet(world: World) -> None:
    digest = digest_for(world, world.story_day)
    hostile = "<!channel> <@U0123> <https://evil.example|click> & more"
    digest.issues[0].label = hostile
    digest.emerging = [digest.issues[0]]
    digest.emerging[0].spiking = True
    digest.spreading[0] = type(digest.spreading[0])(**{**digest.spreading[0].__dict__, "handle": hostile})
    from alerts.digest import slack_message

    payload = slack_message(digest, "https://reports.example.com/digest-2026-01-05.html")
    body = json.dumps(payload)
    for raw in ("<!channel>", "<@U0123>", "<https://evil.example|click>", "& more"):
        assert raw not in body
    assert "&lt;!channel&gt;" in body
    # The one live link is ours, in a context block.
    assert body.count("<https://") == 1 and "<https://reports.example.com/digest-2026-01-05.html|" in body
    assert payload["text"] and payload["blocks"][0]["type"] == "header"
    digest.issues[1].label = '<script>alert("x")</script>'
    html = render_html([digest], datetime.now(UTC))
    assert "<script" not in html and "&lt;script&gt;" in html and "&lt;!channel&gt;" in html


def sending_env(slack_url: str, smtp_host: str, smtp_port: int, recipients: str) -> dict[str, str]:
    """The settings that send the digest to the local Slack and (plain, no STARTTLS) SMTP fakes."""
    return {
        "SLACK_WEBHOOK_URL": slack_url,
        "REPUTATION_SMTP_HOST": smtp_host,
        "REPUTATION_SMTP_PORT": str(smtp_port),
        "REPUTATION_SMTP_STARTTLS": "false",
        "REPUTATION_SMTP_FROM": "digest@voltmart.example",
        "REPUTATION_DIGEST_TO": recipients,
    }


def test_send_posts_to_slack_and_mails_the_page(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.fakes.slack import slack_receiver
    from tests.fakes.smtp import smtp_receiver

    config = world.config.model_copy(
        update={"digest": world.config.digest.model_copy(update={"send": True, "public_url": "https://r.example/d/"})}
    )
    output = tmp_path / "out" / "digest.html"
    with slack_receiver() as slack, smtp_receiver() as smtp:
        env = sending_env(slack.url, smtp.host, smtp.port, "cx-lead@voltmart.example, support@voltmart.example")
        with caplog.at_level(logging.INFO, logger="alerts.digest"):
            write_digest(world.store, config, day=world.story_day, brand=None, output=output, env=env)
    (message,) = slack.messages
    assert "Voltmart daily digest" in message["blocks"][0]["text"]["text"]
    assert "<https://r.example/d/digest.html|Open the full digest>" in json.dumps(message)
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["cx-lead@voltmart.example", "support@voltmart.example"]
    assert mail.message["Subject"].strip().startswith("Voltmart digest for ")
    assert mail.message.get_content_type() == "multipart/alternative"
    text = mail.message.get_body(preferencelist=("plain",))
    html = mail.message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert (
        "Mentions: 20 (2.0/day before)" in text.get_content()
        and "https://r.example/d/digest.html" in text.get_content()
    )
    # SMTP carries lines as CRLF; otherwise the HTML part is the page, byte for byte.
    assert html.get_content().replace("\r\n", "\n").rstrip() == output.read_text(encoding="utf-8").rstrip()
    logged = caplog.text
    assert "slack: sent: Voltmart summary to route 'default'" in logged
    assert "email: sent: to cx-lead@voltmart.example, support@voltmart.example via 127.0.0.1" in logged


def test_send_over_starttls_with_login_never_shows_the_password(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import trustme

    from tests.fakes.smtp import smtp_receiver

    authority = trustme.CA()
    server_context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # what ssl.create_default_context() trusts
    password = "s3cret-Pa55word"
    (digest,) = build_digests(world.store, world.config, day=world.story_day, brand=None)
    html = render_html([digest], datetime.now(UTC))
    with smtp_receiver(tls_context=server_context, users={"digest-bot": password}) as smtp:
        env = {
            "REPUTATION_SMTP_HOST": smtp.host,
            "REPUTATION_SMTP_PORT": str(smtp.port),
            "REPUTATION_SMTP_USER": "digest-bot",
            "REPUTATION_SMTP_PASSWORD": password,
            "REPUTATION_SMTP_FROM": "digest@voltmart.example",
            "REPUTATION_DIGEST_TO": "cx-lead@voltmart.example",
        }
        sent = send_digest(world.config, [digest], html, tmp_path / "digest.html", env)
        wrong = send_digest(
            world.config, [digest], html, tmp_path / "digest.html", {**env, "REPUTATION_SMTP_PASSWORD": "nope-nope"}
        )
    assert [str(d) for d in sent if d.channel == "email"] == [
        f"email: sent: to cx-lead@voltmart.example via 127.0.0.1:{smtp.port} (STARTTLS, as digest-bot)"
    ]
    (mail,) = smtp.messages
    assert mail.over_tls and mail.login == "digest-bot"
    # smtplib tries each mechanism the server offers before it gives up on a wrong password.
    assert smtp.logins == ["digest-bot"] and set(smtp.failed_logins) == {"digest-bot"}
    failed = next(d for d in wrong if d.channel == "email")
    assert failed.outcome == "failed" and "SMTPAuthenticationError" in failed.detail
    reported = " ".join(str(d) for d in [*sent, *wrong]) + caplog.text
    assert password not in reported and "nope-nope" not in reported


def test_send_says_what_it_could_not_send(world: World, tmp_path: Path) -> None:
    from tests.fakes.slack import slack_receiver
    from tests.fakes.smtp import smtp_receiver

    (digest,) = build_digests(world.store, world.config, day=world.story_day, brand=None)
    html = render_html([digest], datetime.now(UTC))
    page = tmp_path / "digest.html"
    nothing = send_digest(world.config, [digest], html, page, {})
    assert [str(d) for d in nothing] == [
        "slack: skipped: SLACK_WEBHOOK_URL is not set (the webhook of route 'default')",
        "email: skipped: REPUTATION_SMTP_HOST and REPUTATION_DIGEST_TO are not set",
    ]
    half = send_digest(world.config, [digest], html, page, {"REPUTATION_SMTP_HOST": "127.0.0.1"})
    assert str(half[1]) == (
        "email: failed: email settings are incomplete: set REPUTATION_DIGEST_TO, REPUTATION_SMTP_FROM"
    )
    waits: list[float] = []
    with slack_receiver() as slack, smtp_receiver(refuse={"gone@voltmart.example"}) as smtp:
        slack.fail_with = [429]  # rate limited once: waits Retry-After, then goes through
        env = sending_env(slack.url, smtp.host, smtp.port, "cx-lead@voltmart.example,gone@voltmart.example")
        retried = send_digest(world.config, [digest], html, page, env, sleep=waits.append)
        slack.fail_with = [500, 500, 500]
        down = send_digest(world.config, [digest], html, page, env, sleep=waits.append)
    assert retried[0].outcome == "sent" and waits[0] == 1.0 and len(slack.messages) == 1
    assert retried[1].outcome == "failed" and "refused for gone@voltmart.example" in retried[1].detail
    assert down[0].outcome == "failed" and "HTTP 500" in down[0].detail and slack.url not in down[0].detail


def test_cli_digest_send(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from reputation.cli.app import app
    from tests.fakes.slack import slack_receiver
    from tests.fakes.smtp import smtp_receiver

    config_file = tmp_path / "reputation.yaml"
    config_file.write_text(
        json.dumps(
            {
                **world.config.model_dump(mode="json", exclude_none=True),
                "database_url": None,
                "digest": {"output_dir": str(tmp_path / "digests"), "public_url": "https://r.example/digests"},
            }
        )
    )
    monkeypatch.setenv("REPUTATION_DATABASE_URL", world.store.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    for name in ("SLACK_WEBHOOK_URL", "REPUTATION_SMTP_HOST", "REPUTATION_DIGEST_TO"):
        monkeypatch.delenv(name, raising=False)
    day = world.story_day.isoformat()
    unsent = runner.invoke(app, ["digest", "--config", str(config_file), "--date", day, "--send"])
    said = " ".join(unsent.output.split())
    assert unsent.exit_code == 1
    assert "nothing was sent" in said and "SLACK_WEBHOOK_URL is not set" in said
    assert (tmp_path / "digests" / f"digest-{world.story_day.isoformat()}.html").exists()

    with slack_receiver() as slack, smtp_receiver() as smtp:
        for key, value in sending_env(slack.url, smtp.host, smtp.port, "cx-lead@voltmart.example").items():
            monkeypatch.setenv(key, value)
        result = runner.invoke(
            app,
            ["digest", "--config", str(config_file), "--brand", "Voltmart", "--date", day, "--send"],
        )
        assert result.exit_code == 0, result.output
        assert f"digest-voltmart-{day}.htmlandsent" in "".join(result.output.split())
        assert len(slack.messages) == 1 and len(smtp.messages) == 1
        link = f"https://r.example/digests/digest-voltmart-{world.story_day.isoformat()}.html"
        assert link in json.dumps(slack.messages[0])

        plain = runner.invoke(app, ["digest", "--config", str(config_file), "--date", world.story_day.isoformat()])
        assert plain.exit_code == 0 and len(slack.messages) == 1  # without --send nothing goes out


@pytest.mark.parametrize("clock", ["00:00:30", "00:01:59", "12:00:00", "23:59:30"])
def test_the_demos_digest_is_the_24_hours_up_to_now_at_any_hour(clock: str) -> None:
    # CI once ran the demo at 00:01, when a calendar day held one minute of the sample.
    from reputation.cli.app import day_ending_after

    config = make_config(brands=[{"name": "A", "timezone": ZONE}])
    zone = config.brand("A").zone
    moment = datetime.combine(date(2026, 12, 5), time.fromisoformat(clock), tzinfo=zone)
    digest = day_ending_after(config, moment).digest
    start, end = digest.day_bounds(digest.day_of(moment, zone), zone)
    assert moment < end <= moment + timedelta(minutes=1)
    assert end - start == timedelta(days=1)
    assert config.digest.day_starts_at == time(0, 0)  # the user's own settings are left as they were


def test_the_scheduled_digest_reports_the_last_day_that_ended_before_the_run(world: World, tmp_path: Path) -> None:
    from reputation.pipeline import digest as scheduled_digest

    run_at = datetime.combine(date(2026, 12, 5), time(6), tzinfo=world.zone)
    for starts, reported in ((time(0), date(2026, 12, 4)), (time(8), date(2026, 12, 3))):
        config = world.config.with_digest(output_dir=str(tmp_path), day_starts_at=starts)
        written = scheduled_digest(world.store, config, "Voltmart", run_at, {})
        assert written.name == f"digest-voltmart-{reported.isoformat()}.html"
        page = written.read_text()
        assert f"daily digest for {reported:%A %d %B %Y}" in page
        assert ("The day from 08:00 to 08:00 the next day" in page) == (starts == time(8))
        # The Slack summary's heading says the same.
        (digest,) = build_digests(world.store, config, day=reported, brand="Voltmart", now=run_at)
        heading = f"Voltmart, {reported:%A %d %B %Y}{' from 08:00' if starts == time(8) else ''} ({ZONE})"
        assert day_heading(digest) == heading
