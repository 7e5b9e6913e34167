from datetime import UTC, datetime, timedelta

import pytest

from reputation.config import parse_config
from reputation.replies.asked_again import asked_again, given, requested
from reputation.replies.canned import Reply, find_templates, normalize
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import Post, build_threads

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OWNED = OwnedAccounts.from_config(parse_config({"brands": [{"name": "Acme", "owned_accounts": ["x:AcmeHelp"]}]}, "t"))


def post(
    key: str,
    handle: str,
    minutes: float,
    text: str = "",
    parent: str | None = None,
    root: str | None = None,
    compound: float = 0.0,
    **extra: object,
) -> Post:
    return Post(
        key=f"x:{key}",
        platform=extra.pop("platform", "x"),  # type: ignore[arg-type]
        kind="reply" if parent else "post",
        text=text or f"post {key}",
        created_at=T0 + timedelta(minutes=minutes),
        author_key=f"x:{handle}",
        handle=handle,
        followers=10,
        parent_key=f"x:{parent}" if parent else None,
        conversation=f"x:{root or key}",
        brand="Acme",
        sentiment="negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral",
        compound=compound,
        **extra,  # type: ignore[arg-type]
    )


def test_first_answer_through_the_reply_chain_and_bystanders_open_no_thread() -> None:
    threads = build_threads(
        [
            post("1", "ann", 0, "my order never came", compound=-0.6),
            post("2", "bob", 2, "same here", parent="1", root="1"),  # a bystander
            post("3", "ann", 10, "hello??", parent="1", root="1", compound=-0.4),
            post("4", "acmehelp", 30, "@ann so sorry, we'll fix it", parent="3", root="1"),
            post("5", "ann", 40, "thanks, that was quick!", parent="4", root="1", compound=0.6),
            post("6", "cy", 50, "@AcmeHelp why did you ignore me", parent="4", root="1", compound=-0.5),
        ],
        OWNED,
    )
    by_author = {thread.author: thread for thread in threads}
    assert set(by_author) == {"ann", "cy"}  # cy answers the brand: her own thread
    ann = by_author["ann"]
    assert ann.key == "x:1" and ann.first_response_seconds == 30 * 60
    assert ann.answer is not None and ann.answer.responder == "x:acmehelp"
    assert ann.complaint and ann.outcome == "better"
    assert by_author["cy"].answer is None and by_author["cy"].outcome == "unknown"


def test_an_answer_that_names_the_customer_counts_and_one_before_her_post_does_not() -> None:
    threads = build_threads(
        [
            post("1", "acmehelp", 0, "We're aware of delays on refunds."),
            post("2", "dee", 5, "@AcmeHelp and mine?", parent="1", root="1", compound=-0.3),
            post("3", "acmehelp", 20, "@dee we've sent you a DM", parent="1", root="1"),
        ],
        OWNED,
    )
    assert [(t.author, t.first_response_seconds) for t in threads] == [("dee", 15 * 60)]


def test_a_company_reply_on_a_review_answers_it() -> None:
    review = post(
        "r1",
        "Eve",
        0,
        "Two stars.",
        compound=-0.5,
        owner_reply={"text": "Sorry, Eve.", "replied_at": (T0 + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    (thread,) = build_threads([review], OWNED)
    assert thread.first_response_seconds == 5 * 3600 and thread.answer is not None
    assert thread.answer.responder == "x:owner_reply"


def test_near_duplicate_replies_in_two_threads_are_one_template() -> None:
    templates = find_templates(
        [
            Reply("a", "t1", "@ann Hi Ann, sorry for the delay. Please DM us your order number VM-1 and we'll check."),
            Reply(
                "b",
                "t2",
                "@bob Hello Bob, so sorry for the delay. Please DM us your order number VM-2 and we'll check.",
            ),
            Reply("c", "t3", "@cy Your parcel is at the depot and goes out first thing tomorrow morning."),
            Reply("d", "t3", "@cy Thanks!"),
        ]
    )
    assert set(templates) == {"a", "b"}
    assert templates["a"].uses == 2 and templates["a"].threads == 2
    # The same text twice in one thread is not a template used on others.
    assert (
        find_templates(
            [
                Reply("a", "t1", "We are looking into it right now for you"),
                Reply("b", "t1", "We are looking into it right now for you"),
            ]
        )
        == {}
    )
    assert "ann" not in normalize("@ann Hi Ann, your order VM-88 is late")


@pytest.mark.parametrize(
    ("reply", "earlier", "expected"),
    [
        ("Please DM us your order details.", ["order VM-88213460, where is it"], ["order number"]),
        ("Please send us a DM with your order number.", ["it's been 15 days. DM sent. again."], ["a DM"]),
        ("Could you share a photo of the damage?", ["photos attached."], ["a photo"]),
        ("Please give us a call on 0800 123.", ["I've called three times."], ["a call"]),
        ("Can you share your receipt in a DM?", ["I have the receipt."], ["the receipt"]),
        # Asked for something she did not give: fine.
        ("Please DM us your order number.", ["my blender arrived broken"], []),
        ("Could you send us a photo?", ["Order #48213377."], []),
        # Mentioned without asking: fine.
        ("Your order number is on its way to the warehouse.", ["order #48213377"], []),
        ("What's your order number?", ["Order ID: A1B2C3D4, still nothing"], ["order number"]),
        ("Can you send us a private message with your order details?", ["I DMed you twice already"], ["a DM"]),
        ("We'll need a copy of your receipt.", ["here's my receipt from the store"], ["the receipt"]),
        ("Please send a DM with your account info so we can help.", ["sent you a DM an hour ago"], ["a DM"]),
        ("Kindly DM your full name and postcode.", ["I DM'd you already"], ["a DM"]),
        ("Please give our customer care team a call.", ["Four calls to your helpline so far."], ["a call"]),
        # Pointing at a DM the brand sent is no request for one.
        ("Please check your DMs, we've replied there.", ["I already DM'd you"], []),
        ("Thanks for sending the photos, we've passed them on.", ["photos attached"], []),
    ],
)
def test_asked_again(reply: str, earlier: list[str], expected: list[str]) -> None:
    assert asked_again(reply, earlier) == expected


def test_requests_and_evidence_are_read_per_kind() -> None:
    assert requested("Thanks. We've passed this on to the team.") == set()
    assert given(["never got my refund"]) == set()


def test_naming_a_handle_is_the_whole_handle() -> None:
    threads = build_threads(
        [
            post("1", "acmehelp", 0, "Refunds are delayed this week."),
            post("2", "dan", 5, "@AcmeHelp mine too", parent="1", root="1", compound=-0.3),
            post("3", "dan_okafor", 6, "@AcmeHelp and mine", parent="1", root="1", compound=-0.3),
            post("4", "acmehelp", 20, "@dan_okafor we've sent you a DM", parent="1", root="1"),
        ],
        OWNED,
    )
    assert {t.author: t.answer is not None for t in threads} == {"dan": False, "dan_okafor": True}
