"""Word knowledge for labels: spacy-lookups-data's word probabilities and WordNet's parts of speech."""

from __future__ import annotations

from reputation.issues.naming import is_thing, name_issue
from reputation.issues.phrases import phrases_of
from reputation.issues.vocabulary import is_known, names_no_thing


def test_hashtags_run_together_are_not_phrases_but_real_words_in_hashtags_are() -> None:
    found = phrases_of("#DestinationDragons tickets gone and my #luggage lost #lostluggage")
    assert "destinationdragons" not in {p.lower() for p in found}
    assert not any("lostluggage" in p.lower() for p in found)
    assert "luggage" in found and "ticket" in found


def test_words_wordnet_knows_only_as_verbs_or_adjectives_name_no_thing() -> None:
    assert names_no_thing("arrive") and names_no_thing("rude")
    assert not names_no_thing("delay") and not names_no_thing("package")
    # Unknown to WordNet (product words, other languages): left to the other checks.
    assert not names_no_thing("iphone") and not names_no_thing("lieferung")
    assert not is_thing("sent") and not is_thing("arrive")
    assert is_thing("battery") and is_thing("wifi")


def test_known_words() -> None:
    assert is_known("delivery") and is_known("wifi")
    assert not is_known("destinationdragons")


def test_a_lone_verb_is_carried_by_the_thing_its_posts_share() -> None:
    # "arrive" used to pass as a thing and name the issue alone.
    terms = {"arrive": 5.0, "package": 4.0, "package arrive": 1.0}
    assert name_issue("arrive", terms, 6) == "package arrive"
