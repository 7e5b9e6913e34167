"""Spread forecasts learn from the store's own finished cascades (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from alerts.rules import detractor_posts
from reputation.models import Kind
from reputation.spread import cascades
from reputation.spread.prior import cell_index, shipped
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import cascades as cascade_table
from reputation.store.schema import enrichments
from tests.conftest import make_config
from tests.factories import BASE_TIME, mention

# Every finished cascade: 2 replies in the first hour, then 38 more over two days (growth x13.7 at 1 h).
EARLY_MINUTES = (5, 40)
LATE_MINUTES = tuple(120 + 75 * i for i in range(38))
FINISHED = 45  # more than MIN_CELL, so the store's cells take over


def _save_cascade(store: Store, root: str, start_minutes: int) -> list[str]:
    posts = [mention(root, minutes=start_minutes)]
    for i, offset in enumerate(EARLY_MINUTES + LATE_MINUTES):
        posts.append(
            mention(f"{root}-r{i}", minutes=start_minutes + offset, kind=Kind.REPLY, parent_id=root, root_id=root)
        )
    with store.transaction() as connection:
        save_batch(connection, "src", posts, {}, BASE_TIME)
        connection.execute(
            insert(enrichments),
            [
                {
                    "mention_key": post.key,
                    "sentiment": "negative",
                    "compound": -0.5,
                    "confidence": 0.9,
                    "intents": [],
                    "needs_help": False,
                    "cascade_key": f"x:{root}",
                    "enriched_at": BASE_TIME,
                }
                for post in posts
            ],
        )
    return [post.key for post in posts]


def test_the_store_history_takes_over_its_cells_and_predictions_carry_an_interval(store: Store) -> None:
    roots = [f"old{i}" for i in range(FINISHED)]
    for i, root in enumerate(roots):
        _save_cascade(store, root, start_minutes=i)
    ended = BASE_TIME + timedelta(days=3)
    with store.transaction() as connection:
        cascades.refresh(connection, {f"x:{root}" for root in roots}, ended)
    later = ended + cascades.FINISHED_AFTER + timedelta(hours=1)

    with store.transaction() as connection:
        learned = cascades.learned_prior(connection, later)
    age, size, tempo = cell_index(3600.0, len(EARLY_MINUTES), 0.5)  # one of the two replies after 30 min
    own = learned.lookup("x", age, size, tempo)
    assert own is not None and own.count == FINISHED  # one sample per finished cascade at 1 h
    base = shipped().lookup("*", age, size, tempo)
    assert learned.lookup("reddit", age, size, tempo) == own  # "*" cells also learn from every platform
    far = cell_index(72 * 3600.0, 400.0, 0.1)  # nothing in the store that big: the shipped cell stays
    assert learned.lookup("x", *far) == shipped().lookup("x", *far)
    assert own != base

    # Kept in the store for a day, so each process (an Airflow task) need not learn it again.
    with store.transaction() as connection:
        assert cascades.current_prior(connection, later) == learned
        connection.execute(cascade_table.update().values(size=0))  # the history is gone...
        assert cascades.current_prior(connection, later + timedelta(hours=23)) == learned  # ...but kept for the day
        assert cascades.current_prior(connection, later + timedelta(days=1)).cells == shipped().cells

    # A new cascade like them, 1 h old with 2 replies: the store's history says it grows ~14x.
    _save_cascade(store, "new", start_minutes=10_000)
    now = BASE_TIME + timedelta(minutes=10_000 + 60)
    with store.transaction() as connection:
        connection.execute(  # the late replies have not happened yet
            enrichments.delete().where(
                enrichments.c.mention_key.like("x:new-r%"), enrichments.c.mention_key > "x:new-r1"
            )
        )
        (metrics,) = cascades.refresh(connection, {"x:new"}, now, cascades.predict_with_seismic, learned)
        row = connection.execute(select(cascade_table).where(cascade_table.c.root_key == "x:new")).one()
    assert metrics.size == 2
    assert row.predicted_low <= row.predicted_final <= row.predicted_high
    assert row.predicted_low <= len(EARLY_MINUTES + LATE_MINUTES) <= row.predicted_high
    assert abs(row.predicted_final - 40) / 40 < 0.25
    # The history only holds cascades that reached 10 events: whether this one will is not in it.
    assert row.predicted_low == 2 and row.prediction_uncertain is True


def test_an_uncertain_forecast_alone_does_not_raise_a_detractor_alert(store: Store) -> None:
    _save_cascade(store, "loud", start_minutes=0)
    now = BASE_TIME + timedelta(days=3)
    rules = {"detractor": {"min_reach": 10**9, "min_cascade": 1000, "min_predicted": 30}}
    config = make_config(alerts={"rules": rules})
    with store.transaction() as connection:
        cascades.refresh(connection, {"x:loud"}, now)
        forecast = {"predicted_final": 60.0, "predicted_low": 20.0, "predicted_high": 400.0}
        update = cascade_table.update().where(cascade_table.c.root_key == "x:loud")
        connection.execute(update.values(**forecast, prediction_uncertain=False))
        (sure,) = detractor_posts(connection, config, now)
        connection.execute(update.values(prediction_uncertain=True))
        unsure = detractor_posts(connection, config, now)
        connection.execute(update.values(predicted_low=35.0))
        (low_end_enough,) = detractor_posts(connection, config, now)
    assert sure.facts["predicted_low"] == 20.0 and sure.facts["prediction_uncertain"] is False
    assert unsure == []  # 60 is likely, but only 20 is sure enough to act on
    assert low_end_enough.facts["prediction_uncertain"] is True
