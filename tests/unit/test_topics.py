"""Issue 17: grain from the data, the unsorted pool, topics over issues, known issues first, names."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from reputation.issues import Complaint, IssueClusterer
from reputation.issues.granularity import MIN_GROUP, SAMPLE_MIN, choose_join
from reputation.issues.naming import domain_words, is_fragment, name_issue, tell_apart
from reputation.text.embeddings import HashingEmbedder, MiniLMEmbedder, minilm_available

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BATTERY = [
    "my laptop battery swelled and the case cracked",
    "battery swelling again, the bottom panel is bulging",
    "swollen battery, the trackpad stopped clicking",
    "the battery swelled so much the lid won't close",
]
REFUND = [
    "refund still not received after three weeks",
    "where is my refund, returned it a month ago",
    "still waiting for my refund, nobody answers",
    "refund approved but never arrived in my bank",
]


def complaints(texts: list[str], start: int = 0) -> list[Complaint]:
    return [Complaint(f"x:{start + i}", "Voltmart", t, T0 + timedelta(minutes=start + i)) for i, t in enumerate(texts)]


def test_the_grain_follows_how_close_neighbours_are() -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(6, 32))

    def sample(spread: float) -> np.ndarray:
        points = np.repeat(centres, 10, axis=0) + rng.normal(scale=spread, size=(60, 32))
        return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)

    tight, loose = choose_join(sample(0.2)), choose_join(sample(1.0))
    assert tight is not None and loose is not None and tight > loose
    assert choose_join(sample(0.2)[: SAMPLE_MIN - 1]) is None  # too few to say: the fixed threshold stays


def test_a_lone_complaint_waits_unsorted_and_joins_when_alike_posts_arrive() -> None:
    clusterer = IssueClusterer([], embedder=HashingEmbedder())
    first = clusterer.assign_all(complaints(BATTERY[:1]))["x:0"]
    assert first is not None and clusterer.issues[first].unsorted
    later = clusterer.assign_all(complaints(BATTERY[1:], start=1))
    issue = clusterer.issues[clusterer.resolve(first)]
    assert not issue.unsorted and issue.size >= MIN_GROUP
    assert {clusterer.resolve(v) for v in later.values() if v} == {issue.id}
    assert issue.topic_id is not None and clusterer.topics[issue.topic_id].label


def test_known_issues_are_matched_first_with_their_name() -> None:
    known = {"Voltmart": [("battery swelling", ["battery swelled", "swollen battery bulging"])]}
    clusterer = IssueClusterer([], embedder=HashingEmbedder(), known=known)
    assigned = clusterer.assign_all(complaints(BATTERY + REFUND))
    battery = {assigned[f"x:{i}"] for i in range(len(BATTERY))}
    assert len(battery) == 1
    (issue_id,) = battery
    assert clusterer.issues[issue_id].label == "battery swelling" and clusterer.issues[issue_id].label_locked
    assert issue_id not in {assigned[f"x:{i}"] for i in range(len(BATTERY), len(BATTERY) + len(REFUND))}


@pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed")
def test_minilm_keeps_the_two_problems_apart_and_names_them() -> None:
    clusterer = IssueClusterer([], ignore_words=["Voltmart"], embedder=MiniLMEmbedder())
    assigned = clusterer.assign_all(complaints(BATTERY + REFUND))
    battery = {clusterer.resolve(str(assigned[f"x:{i}"])) for i in range(4)}
    refund = {clusterer.resolve(str(assigned[f"x:{i}"])) for i in range(4, 8)}
    assert len(battery) == 1 and len(refund) == 1 and battery != refund
    assert "battery" in clusterer.issues[battery.pop()].label
    assert "refund" in clusterer.issues[refund.pop()].label


@pytest.mark.parametrize(
    "fragment",
    [
        "post",
        "no notes",
        "year of",
        "@voltmart",
        "2026",
        "jk",
        "ur customer",
        "min",
        "yep",
        "hey",
        "kind of bug",
        "lot of delays",
        "yr old",
        "first time",
        "shout",
        "isn't bad",
    ],
)
def test_fragments_are_never_names(fragment: str) -> None:
    assert is_fragment(fragment)


def test_a_lone_verb_gets_the_thing_it_happened_to() -> None:
    terms = {"swelled": 8.0, "battery": 7.0, "physical damage": 4.0, "post": 5.0}
    assert name_issue("swelled", terms, 10) == "battery swelled"
    assert name_issue("swelled", {**terms, "battery swelled": 3.0}, 10) == "battery swelled"
    assert name_issue("post", {"post": 3.0, "hinge": 3.0, "cracked hinge": 2.0}, 6) == "cracked hinge"


def test_a_domain_word_used_across_issues_never_names_one_alone() -> None:
    delays = {"flight": 21.0, "delayed": 15.0, "plane": 6.0, "hour": 6.0, "flight delayed": 3.0}
    bags = {"flight": 10.0, "bag": 9.0, "lost bag": 4.0}
    seats = {"flight": 12.0, "seat": 6.0, "fare": 2.0}
    fares = {"fare": 28.0, "flight": 8.0}  # a quarter of all posts, but one issue's own subject
    domain = domain_words([delays, bags, seats, fares], 100)
    assert domain == {"flight"}
    # Without it "flight", the most used and most distinctive word, names the delay group, with the state
    # its posts share.
    assert name_issue("flight", delays, 29) == "flight delayed"
    # relabel picks the distinctive phrase without the domain words ("delayed"); a domain word given
    # anyway gives way to the issue's most used thing.
    assert name_issue("delayed", delays, 29, domain) == "plane delayed"
    assert name_issue("flight", delays, 29, domain) == "plane"
    # A phrase holding the domain word still names the issue.
    assert name_issue("flight delayed", delays, 29, domain) == "flight delayed"
    # No specific thing shared by enough posts: the domain word carries the lone verb.
    assert name_issue("delayed", {"flight": 74.0, "delayed": 28.0, "fly": 17.0}, 100, domain) == "flight delayed"


def test_a_second_issue_with_a_taken_name_keeps_the_thing_it_names() -> None:
    taken = {"top up", "exchange rate"}
    # A longer phrase with the same thing, used by enough of its posts.
    cash = {"top up": 9.0, "top up with cash": 3.0, "cash": 4.0}
    assert tell_apart("top up", cash, 10, taken) == "top up with cash"
    # None: the name, and after a slash its most used phrase that says something else.
    reverted = {"top up": 6.0, "cancellation": 3.0, "top": 2.0, "post": 4.0}
    assert tell_apart("top up", reverted, 8, taken) == "top up / cancellation"
    # A phrase of one post is not enough to name it; the domain word never tells issues apart.
    rare = {"exchange rate": 8.0, "official interbank exchange": 1.0, "card": 5.0, "fee": 3.0}
    assert tell_apart("exchange rate", rare, 10, taken, frozenset({"card"})) == "exchange rate / fee"
    # What sets it apart must be used by two posts too, else the name stays as it was.
    assert tell_apart("exchange rate", {"exchange rate": 4.0, "reallyyy unamused": 1.0}, 5, taken) == "exchange rate"
    # That name taken too, and nothing else to add: it stays as it was.
    assert tell_apart("exchange rate", {"exchange rate": 4.0, "fee": 2.0}, 5, taken | {"exchange rate / fee"}) == (
        "exchange rate"
    )


def test_an_alert_shows_topic_and_issue_but_never_an_unsorted_post_as_an_issue() -> None:
    from reputation.issues.topics import shown_issue

    assert shown_issue("late refund", "billing", 2) is None  # two alike: still the unsorted pool
    assert shown_issue("late refund", "billing", 3) == "billing > late refund"
    assert shown_issue("billing error", "billing", 7) == "billing error"  # the issue already names its topic
    assert shown_issue("late refund", None, 4) == "late refund"
    assert shown_issue(None, "billing", 9) is None
    # A topic of two things that holds the issue's whole name says it alone.
    assert shown_issue("delivery", "delivery & box", 6) == "delivery & box"
    assert shown_issue("box crushed", "delivery & box", 6) == "delivery & box > box crushed"
    # ... also when the issue names the same two things the other way round (the demo showed "tech & system >
    # system & tech").
    assert shown_issue("system & tech", "tech & system", 3) == "tech & system"
    assert shown_issue("tech / system", "tech & system", 3) == "tech & system"


def test_a_topic_is_named_by_two_things_when_a_second_comes_close_and_as_one_phrase_when_written_so() -> None:
    from reputation.issues.naming import name_topics

    profiles = {
        "bags": {"bag": 8.0, "luggage": 6.0, "flight": 7.0, "seat": 1.0},
        "cards": {"credit": 7.0, "card": 6.0, "flight": 6.0},
        "delays": {"delay": 9.0, "flight": 9.0, "gate": 1.0, "bag": 1.0},
    }
    sizes = {"bags": 10, "cards": 10, "delays": 10}
    compounds = {"cards": {"credit card": 5.0}}
    names = name_topics(profiles, sizes, compounds, domain=frozenset({"flight"}))
    # "seat" (one post) and "gate" are far behind; "flight" is the brand's word, in every topic.
    assert names == {"bags": "bag & luggage", "cards": "credit card", "delays": "delay"}
    # A word WordNet also lists as an adjective ("super helpful") is no second thing.
    profiles["gates"] = {"gate": 8.0, "super": 6.0}
    assert name_topics(profiles, sizes | {"gates": 10}, compounds, frozenset({"flight"}))["gates"] == "gate"


def test_a_reply_follows_the_complaint_its_thread_started_from_when_it_is_about_the_same_thing() -> None:
    reply = "refund still not received, my battery swelled too"  # between the two issues on its own

    def sorted_with(thread: str | None) -> tuple[IssueClusterer, dict[str, str | None]]:
        clusterer = IssueClusterer([], embedder=HashingEmbedder())
        batch = [*complaints(BATTERY + REFUND), Complaint("x:99", "Voltmart", reply, T0 + timedelta(hours=1), thread)]
        return clusterer, clusterer.assign_all(batch)

    _, alone = sorted_with(None)
    assert alone["x:99"] == alone["x:4"] != alone["x:0"]  # without its thread it reads as a refund complaint
    clusterer, threaded = sorted_with("x:0")
    assert threaded["x:99"] == threaded["x:0"] != threaded["x:4"]
    battery, refund = clusterer.issues[threaded["x:0"] or ""], clusterer.issues[threaded["x:4"] or ""]
    assert (battery.size, refund.size) == (len(BATTERY) + 1, len(REFUND))
    assert refund.terms.get("not received", 0) == 1  # the moved reply's phrases left the refund issue

    # The thread's first post was sorted in an earlier cycle: the caller says where it went.
    clusterer = IssueClusterer([], embedder=HashingEmbedder())
    first = clusterer.assign_all(complaints(BATTERY + REFUND))
    replies = [
        Complaint("x:99", "Voltmart", reply, T0 + timedelta(hours=1), "x:0"),
        # Its own problem, which others have too: it stays with them.
        Complaint("x:98", "Voltmart", "where is my refund, still not received", T0 + timedelta(hours=1), "x:0"),
    ]
    later = clusterer.assign_all(replies, {"x:0": first["x:0"] or ""})
    assert clusterer.resolve(later["x:99"] or "") == clusterer.resolve(first["x:0"] or "")
    assert clusterer.resolve(later["x:98"] or "") == clusterer.resolve(first["x:4"] or "")


def test_a_reply_alike_to_nothing_joins_the_story_it_answers() -> None:
    """Under a swollen-battery post, "her laptop was ON FIRE" shares no word with the battery posts and would wait
    alone in the unsorted pool; in its thread it is that story's, and a CX lead reads it there."""
    aside = "her laptop was ON FIRE and support hung up on her"
    clusterer = IssueClusterer([], embedder=HashingEmbedder())
    first = clusterer.assign_all(complaints(BATTERY + REFUND))
    battery = clusterer.issues[first["x:0"] or ""]
    assert not battery.unsorted and float(clusterer.embedder.embed([aside])[0] @ battery.centroid) < 0.1
    alone = clusterer.assign_all([Complaint("x:97", "Voltmart", aside, T0 + timedelta(hours=1))])
    assert alone["x:97"] is not None and clusterer.issues[alone["x:97"]].unsorted
    # A thread still in the pool has no story to join: its replies wait there too.
    reply = Complaint("x:96", "Voltmart", "terrifying, glad nobody was hurt", T0 + timedelta(hours=2), "x:97")
    pooled = clusterer.assign_all([reply], {"x:97": alone["x:97"] or ""})
    assert pooled["x:96"] is not None and clusterer.issues[pooled["x:96"]].unsorted
    reply = Complaint("x:95", "Voltmart", aside, T0 + timedelta(hours=3), "x:0")
    threaded = clusterer.assign_all([reply], {"x:0": first["x:0"] or ""})
    assert threaded["x:95"] == first["x:0"] and battery.size == len(BATTERY) + 1


def test_an_export_s_html_escaping_is_read_as_the_characters_it_stands_for() -> None:
    from reputation.issues.phrases import phrases_of

    # Kaggle's support tweets keep X's "&amp;": it made "amp" a topic's word ("staff & amp").
    cleaned = IssueClusterer([], embedder=HashingEmbedder()).clean("gate staff &amp; crew were rude &gt;:(")
    assert cleaned == "gate staff & crew were rude >:("
    assert not any("amp" in phrase.split() for phrase in phrases_of(cleaned))


def test_a_straggler_a_little_less_close_joins_only_an_issue_about_a_thing_it_names() -> None:
    from reputation.issues.clustering import Issue
    from reputation.issues.granularity import SHARED_THING_MARGIN, STRAGGLER_MARGIN

    terms = {"bag": 6.0, "lost": 4.0, "flight": 5.0, "carousel": 1.0}
    bags = Issue("iss-bags", "Delta", "bag lost", terms, 10, T0, T0)
    join = 0.5
    about_bags, about_crew = {"bag": 1.0, "carousel": 1.0}, {"crew": 1.0, "rude": 1.0}
    just_below, well_below = join - STRAGGLER_MARGIN / 2, join - (STRAGGLER_MARGIN + SHARED_THING_MARGIN) / 2
    # Close enough, it joins on closeness alone; a little further, only when it names the issue's thing.
    assert IssueClusterer._may_attach(just_below, join, about_crew, bags)
    assert IssueClusterer._may_attach(well_below, join, about_bags, bags)
    assert not IssueClusterer._may_attach(well_below, join, about_crew, bags)
    # A thing one post in ten names is no thing the issue is about; and too far is too far.
    assert not IssueClusterer._may_attach(well_below, join, {"carousel": 1.0}, bags)
    assert not IssueClusterer._may_attach(join - SHARED_THING_MARGIN - 0.01, join, about_bags, bags)


def test_a_thing_with_no_shared_state_takes_the_next_thing_its_posts_share() -> None:
    # An iOS update that drains batteries: "phone" alone says less than "phone & update".
    terms = {"phone": 8.0, "update": 5.0, "battery": 4.0, "dead": 4.0, "hate": 3.0}
    assert name_issue("phone", terms, 12) == "phone & update"
    # Never a word that also says how ("printer & dead"), nor a thing too few of its posts name.
    assert name_issue("printer", {"printer": 3.0, "dead": 3.0}, 3) == "printer"
    assert name_issue("phone", {"phone": 8.0, "update": 1.0}, 12) == "phone"
