"""The unanswered-complaint rule and the lines a canned or asking-again reply adds, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from reputation.alerting import load_alerting
from reputation.config import parse_config
from reputation.enrichment import Enricher
from reputation.models import Author, Kind, Mention
from reputation.store import Store
from reputation.store.mentions import save_batch
from reputation.store.schema import enrichments, incidents
from tests.factories import BASE_TIME, mention

NOW = BASE_TIME + timedelta(hours=8)
# A big account: its followers must not make the complaints it answers look like detractors.
HELP = Author(id="u-help", handle="AcmeHelp", followers=1_000_000)
TEMPLATE = "Hi there, we're sorry to hear this. Please send us a DM with your order number and we'll look into it."
CONFIG = parse_config(
    {
        "brands": [{"name": "Acme", "aliases": ["Acme", "@AcmeHelp"], "owned_accounts": ["x:acmehelp"]}],
        "alerts": {"rules": {"detractor": {"min_reach": 20000, "min_cascade": 10}}},
        "issues": {"embedder": "hashing"},
    },
    "test.yaml",
)


def customer(native_id: str, text: str, hours_ago: float, **fields: object) -> Mention:
    return mention(native_id, text, minutes=(8 - hours_ago) * 60, brand="Acme", **fields)


def reply(native_id: str, parent: str, text: str, hours_ago: float) -> Mention:
    return mention(
        native_id,
        text,
        minutes=(8 - hours_ago) * 60,
        brand="Acme",
        author=HELP,
        kind=Kind.REPLY,
        parent_id=parent,
        root_id=parent,
    )


def store_and_detect(store: Store, batch: list[Mention], now: object = NOW) -> list[str]:
    with store.transaction() as connection:
        save_batch(connection, "test", batch, {}, NOW)
    Enricher(CONFIG, predict=None).run(store, NOW)
    return [alert.title for alert in load_alerting().detect(store, CONFIG, NOW)]


def test_unanswered_complaints_alert_once_and_a_bad_reply_adds_a_line(store: Store) -> None:
    first = [
        customer("a", "@AcmeHelp my order 77123456 never arrived, this is awful and I want a refund", 5),
        customer("b", "@AcmeHelp terrible, the blender broke on day one", 1),  # within the SLA
        customer("c", "@AcmeHelp awful service, my parcel is lost", 6),
        reply("c1", "c", "@user_c " + TEMPLATE, 5),
        customer("d", "Acme is awful, never again", 6),  # not written to the brand
        # The brand's own gloomy statement, to a million followers: no detractor, no complaint.
        mention(
            "s",
            "We're sorry, today's outage is terrible and awful.",
            minutes=0,
            brand="Acme",
            author=HELP,
        ),
    ]
    titles = store_and_detect(store, first)
    unanswered = [title for title in titles if title.startswith("No answer")]
    assert unanswered == ["No answer to @user_a's complaint on x after 5 h (response SLA 4 h)"]
    assert not any("AcmeHelp" in title for title in titles)
    with store.engine.connect() as connection:
        issue = connection.scalar(select(enrichments.c.issue_id).where(enrichments.c.mention_key == "x:s"))
    assert issue is None
    # Again over the same data: nothing new.
    assert store_and_detect(store, []) == []
    # The brand answers @user_a with the template it sent @user_c, asking for the order number she gave.
    titles = store_and_detect(store, [reply("a1", "a", "@user_a " + TEMPLATE, 0.5)])
    assert titles == [
        "Our reply to @user_a is canned (sent to 2 threads) and asks again for order number,"
        " already given in the thread"
    ]
    assert store_and_detect(store, []) == []
    with store.engine.connect() as connection:
        details = connection.scalar(select(incidents.c.details).where(incidents.c.story_key == "unanswered:x:a"))
    assert details is not None
    assert [note["answer"] for note in details["response_notes"]] == ["x:a1"]
