"""The digest's "How we answered" section, read from a real store."""

from __future__ import annotations

from datetime import timedelta

from alerts.digest import build_brand_digest, render_html, summary_lines
from reputation.config import parse_config
from reputation.enrichment import Enricher
from reputation.models import Author, Kind, Mention
from reputation.store import Store
from reputation.store.mentions import save_batch
from tests.factories import BASE_TIME, mention

HELP = Author(id="u-help", handle="AcmeHelp", followers=5000)
CONFIG = parse_config(
    {
        "brands": [{"name": "Acme", "aliases": ["@AcmeHelp"], "owned_accounts": ["x:AcmeHelp"]}],
        "issues": {"embedder": "hashing"},
    },
    "test.yaml",
)
TEMPLATE = "So sorry to hear this. Please send us a DM with your order number and we will look into it."


def complaint(native_id: str, minutes: float, text: str = "awful, my parcel never came and nobody helps") -> Mention:
    return mention(native_id, f"@AcmeHelp {text}", minutes=minutes, brand="Acme")


def answer(native_id: str, parent: str, minutes: float, text: str) -> Mention:
    return mention(
        native_id, text, minutes=minutes, brand="Acme", author=HELP, kind=Kind.REPLY, parent_id=parent, root_id=parent
    )


def test_how_we_answered(store: Store) -> None:
    batch = [
        complaint("a", 0),
        answer("a1", "a", 10, "@user_a " + TEMPLATE),  # 10 min, canned
        # Mildly negative (-0.58), so the next post reads worse. Plain "my parcel is late" is too near the
        # boundary to pin: -0.54 batched beside these posts, -0.45 alone (int8 vectors move with batch-mates).
        complaint("b", 30, "my parcel is a day late"),
        answer("b1", "b", 90, "@user_b " + TEMPLATE),  # 60 min, canned
        mention(
            "b2",
            "@AcmeHelp useless, terrible, worst service ever",
            minutes=100,
            brand="Acme",
            author=Author(id="u-b", handle="user_b"),
            kind=Kind.REPLY,
            parent_id="b1",
            root_id="b",
        ),
        complaint("c", 60),
        answer("c1", "c", 300, "@user_c The courier has your parcel at the depot; it goes out tomorrow at 8."),  # 4 h
        complaint("d", 120, "<script>terrible</script> awful, nothing works"),  # never answered
        complaint("e", 130),  # never answered
    ]
    with store.transaction() as connection:
        save_batch(connection, "test", batch, {}, BASE_TIME)
    now = BASE_TIME + timedelta(hours=10)
    Enricher(CONFIG, predict=None).run(store, now)
    with store.engine.connect() as connection:
        digest = build_brand_digest(connection, CONFIG, CONFIG.brands[0], BASE_TIME.date(), now)
    r = digest.responses
    assert r is not None
    assert (r.threads, r.answered, r.unanswered_over_sla, r.canned, r.worse, r.with_outcome) == (5, 3, 2, 2, 1, 1)
    assert r.median_minutes == 60 and r.p90_minutes == 240
    assert [(bar.label, bar.count) for bar in r.bars] == [
        ("under 15 min", 1),
        ("15\u201360 min", 0),
        ("1\u20134 h", 1),
        ("4\u201324 h", 1),
        ("over 24 h", 0),
        ("not answered", 2),
    ]
    html = render_html([digest], now)
    section = html.split('id="responses"')[1].split("</section>")[0]
    assert "How we answered" in section and "60%" in section and "<svg" in section
    assert "<script>" not in html
    assert any(line.startswith("How we answered: 3 of 5 complaints (60%)") for line in summary_lines(digest))
