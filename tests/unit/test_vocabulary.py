"""Word knowledge for labels: spacy-lookups-data's word probabilities and WordNet's parts of speech."""

from __future__ import annotations

from reputation.issues.naming import is_thing, name_issue, things_named
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
    assert not is_thing("come") and not is_thing("like")  # nouns in WordNet too, but plain verbs here
    assert is_thing("battery") and is_thing("wifi")


def test_known_words() -> None:
    assert is_known("delivery") and is_known("wifi")
    assert not is_known("destinationdragons")


def test_a_lone_verb_is_carried_by_the_thing_its_posts_share() -> None:
    # "arrive" used to pass as a thing and name the issue alone.
    terms = {"arrive": 5.0, "package": 4.0, "package arrive": 1.0}
    assert name_issue("arrive", terms, 6) == "package arrive"


def test_inflected_verbs_are_not_things_but_irregular_plurals_are() -> None:
    assert not is_thing("took") and not is_thing("caught")
    assert is_thing("children") and is_thing("flights")
    # The lemma table reads these as "numb", "crow" and "grind"; WordNet lists each as a noun and verb of its own.
    assert is_thing("number") and is_thing("crew") and is_thing("ground")
    assert not is_thing("sent") and not is_thing("left")  # nouns in WordNet too, but no verbs of their own


def test_a_topic_is_named_by_the_thing_most_of_its_posts_share_more_than_the_others() -> None:
    from reputation.issues.naming import name_topics

    profiles = {
        "bags": {"bag": 8.0, "flight": 6.0, "creamer": 2.0},
        "delays": {"delay": 9.0, "flight": 10.0, "gate": 3.0},
    }
    names = name_topics(profiles, {"bags": 10, "delays": 10})
    # "creamer" is rarer (c-TF-IDF's pick); "flight" is shared by both; "bag" and "delay" name them.
    assert names == {"bags": "bag", "delays": "delay"}


def test_a_lone_thing_is_named_with_the_state_its_posts_share() -> None:
    from reputation.issues.naming import went_wrong

    assert name_issue("bottom", {"bottom": 2.0, "bulging": 2.0, "bad": 2.0, "case": 1.0}, 3) == "bottom bulging"
    # Plain actions and bare judgements say nothing of what went wrong.
    assert name_issue("refund", {"refund": 9.0, "returned": 4.0, "awful": 5.0}, 10) == "refund"
    assert went_wrong("cracked") and went_wrong("missing") and went_wrong("late")
    assert not went_wrong("bought") and not went_wrong("actually") and not went_wrong("terrible")
    assert not went_wrong("new") and not went_wrong("excited")  # place it or say how it felt, not what broke


def test_bare_judgements_are_never_things() -> None:
    assert not is_thing("bad") and not is_thing("fine") and not is_thing("great")
    # "super" is a noun in WordNet, but customers write it as praise ("super helpful"): it named airline topics.
    assert not is_thing("super")
    # ... so an issue whose distinctive word is "bad" is named by the thing its posts share, not "bad" or "seat bad";
    terms = {"delay": 4.0, "bad": 2.0, "seat": 2.0, "lounge": 1.0, "bad lounge": 1.0}
    assert name_issue("bad", terms, 4, frozenset({"delay"})) == "seat"
    # and when they share none but the brand's domain word ("work" is a plain verb), by that word.
    terms = {"delay": 4.0, "bad": 2.0, "work": 2.0, "lounge": 1.0, "bad lounge": 1.0}
    assert name_issue("bad", terms, 4, frozenset({"delay"})) == "delay"


def test_nothing_shared_names_the_issue_from_its_most_central_post() -> None:
    # Every phrase is one post's: before, the tie went to the alphabet ("put"), now to the typical post.
    terms = {"put": 1.0, "aug": 1.0, "canx": 1.0, "flight": 3.0, "missed connection": 1.0, "connection": 1.0}
    central = {"missed connection": 1.0, "connection": 1.0, "put": 1.0}
    assert name_issue("ba", terms, 4, frozenset({"flight"}), central) == "missed connection"
    # Without a central post that names a thing, a domain word most of them use says what it is about.
    assert name_issue("ba", terms, 4, frozenset({"flight"}), {"put": 1.0}) == "flight"
    # Among the central post's words, one WordNet lists only as a noun is surer a thing than a noun that is
    # also a verb: the demo's "hope you get your money back" names its group "money", not "hope".
    central = {"hope": 1.0, "money": 1.0, "customer": 1.0}
    assert name_issue("hanging", {**central, "hanging": 1.0}, 3, frozenset(), central) == "money"


def test_a_verb_counts_for_the_noun_made_from_it_when_the_brand_uses_that_noun() -> None:
    from reputation.issues.naming import aspect_counts, noun_form

    assert noun_form("delivered") == "delivery" and noun_form("delivering") == "delivery"
    assert noun_form("cancelled") == "cancellation" and noun_form("escalated") == "escalation"
    assert noun_form("arrived") == "arrival" and noun_form("subscribed") == "subscription"
    # Short or irregular stems make other nouns: "state" is no "station", "stuck" no "stick", "billed" no "billy".
    assert noun_form("stated") != "station" and noun_form("stuck") is None and noun_form("billed") != "billy"
    assert noun_form("delivery") is None  # already a noun

    terms = {"package": 5.0, "delivered": 4.0, "delivery": 2.0, "dedicated": 3.0, "package delivered": 2.0}
    counts = aspect_counts(terms, {"package", "delivery"})
    # "dedication" is nobody's word here; phrases of two words name issues, not topics.
    assert counts == {"package": 5.0, "delivery": 6.0}


def test_a_service_area_in_ing_is_a_thing_and_its_verb_counts_for_it() -> None:
    from reputation.issues.naming import aspect_counts, is_thing, noun_form

    # "booking", "billing", "shipping" are what CX teams call their topics; "waiting" and "calling" say only
    # what somebody was doing, though WordNet lists them as nouns too.
    assert is_thing("booking") and is_thing("billing") and is_thing("shipping")
    assert not is_thing("waiting") and not is_thing("calling") and not is_thing("being")
    assert noun_form("booked") == "booking" and noun_form("shipped") == "shipping" and noun_form("billed") == "billing"
    assert noun_form("charged") is None  # a bank's "charged a fee" is no phone's "charging"
    # "trying to book" names booking, though a word after "to" is otherwise a verb that names no thing.
    from reputation.issues.phrases import phrases_of

    assert "book" in phrases_of("trying to book a flight all day") and "pay" not in phrases_of("trying to pay")
    # The posts' verb counts though no post shows the noun: "billing" and "billed" share one phrase key.
    assert aspect_counts({"billed": 3.0, "account": 2.0}, {"account"}) == {"billing": 3.0, "account": 2.0}


def test_a_delivery_topic_is_named_delivery_though_most_posts_say_delivered() -> None:
    from reputation.issues.naming import aspect_counts, name_topics

    brand = {"package", "delivery", "refund", "money"}
    issues = {
        "late": {"package": 4.0, "delivered": 6.0, "delivery": 3.0},
        "refunds": {"refund": 8.0, "money": 2.0},
    }
    profiles = {topic: aspect_counts(terms, brand) for topic, terms in issues.items()}
    assert name_topics(profiles, {"late": 10, "refunds": 10}) == {"late": "delivery", "refunds": "refund"}
    # Counting the noun alone, the package would come first.
    plain = {"late": {"package": 4.0, "delivery": 3.0}, "refunds": profiles["refunds"]}
    assert name_topics(plain, {"late": 10, "refunds": 10})["late"] == "package & delivery"


def test_a_post_in_another_language_loses_that_languages_stop_words_too() -> None:
    from reputation.issues.phrases import phrases_of

    spanish = phrases_of("La batería del portátil se hinchó y mi pedido no ha llegado todavía")
    assert {"batería", "pedido"} <= spanish
    # Neither its own function words ("mi", "se", "del") nor English ones stand alone or end a phrase.
    assert not spanish & {"mi", "se", "del", "la", "y", "no", "ha"}
    assert not any(p.split()[-1] in {"mi", "se", "del", "la", "y"} for p in spanish)
    german = phrases_of("Meine Bestellung ist immer noch nicht angekommen, der Akku ist aufgebläht")
    assert "bestellung" in german and not german & {"meine", "ist", "der", "noch", "immer"}
    # English is read as before: "die" and "man" are German stop words but English words.
    assert "man" in phrases_of("the delivery man threw my parcel over the fence and left")


def test_app_words_wordnet_knows_only_as_verbs_are_things() -> None:
    # WordNet 3.0 predates "my downloads" and "the podcast"; a streaming app's support team tracks both.
    assert is_thing("downloads") and is_thing("podcast") and is_thing("sync")
    assert "download" in phrases_of("my downloads vanished again after the update")
    assert not is_thing("arrive") and not is_thing("install")  # still verbs: what went wrong, not with what


def test_times_in_other_languages_name_no_thing() -> None:
    # "Llevo tres semanas esperando mi pedido": the weeks say how long, the order is what went wrong.
    assert not is_thing("semanas") and not is_thing("wochen") and is_thing("pedido")
    assert is_thing("tag")  # a luggage tag, though "Tag" is German for day


def test_answers_and_chat_words_name_no_thing() -> None:
    # "@united yes, and the bag is still in Denver": WordNet lists "yes" as a noun, but it answers, it names nothing.
    assert not any(is_thing(word) for word in ("yes", "wtf", "smh", "tbh", "oh", "wanna"))
    assert not is_thing("crazy")  # how it felt, as "ridiculous"
    assert "yes" not in name_issue("yes", {"yes": 9.0, "bag": 6.0, "bag lost": 5.0}, 10).split()
    # At either end of a phrase they make a fragment: "wow flight" named an airline group.
    assert name_issue("wow flight", {"wow flight": 4.0, "flight": 5.0, "seat": 3.0}, 5) != "wow flight"


def test_places_written_as_names_name_no_issue() -> None:
    from reputation.issues.places import place_words

    # "delayed 5 hours in Miami": where, not what. "miami" and "orlando" named airline groups this way.
    assert "miami" not in phrases_of("delayed 5 hours in Miami and still no bag")
    found = phrases_of("my flight from New York to Orlando got cancelled")
    assert not any("orlando" in p or "york" in p for p in found)
    # A gazetteer word that customers also write as a word stays a word: "mobile" (Mobile, Alabama) in lower case,
    # or capitalised only because it starts the sentence.
    assert "mobile data" in phrases_of("my mobile data is down again")
    assert "mobile data" in phrases_of("Mobile data is down again. Fix it")
    # Shouted words are not names ("ORLANDO" like "LATE"); two-word names count wherever they stand.
    assert place_words("New York lost my bag".split()) == {0, 1}
    assert place_words("ORLANDO FLIGHT LATE".split()) == set()
    # German capitalises every noun: "Hof" (a yard) is also a city, and capitals tell nothing there.
    assert place_words("Der Hof ist voll".split(), "de") == set() and place_words("in Hof".split()) == {1}


def test_nouns_of_their_own_in_s_are_not_plurals() -> None:
    # "news" is not "new", "series" not "serie", "lens" not "len"; "refunds" and "airpods" are still plurals.
    assert {"news feed", "news"} <= phrases_of("my news feed is empty again")
    assert "series" in phrases_of("the series won't stream")
    assert "lens" in phrases_of("the lens cracked")
    assert {"refund", "airpod"} <= phrases_of("refunds for my airpods never came")


def test_what_a_redaction_left_is_no_phrase() -> None:
    # The CFPB's narratives mask names and dates as "XXXX": labels read "xxxx account" and "end of xxxx".
    found = phrases_of("XXXX did not send the XXXX account statement")
    assert not any("xxxx" in phrase for phrase in found) and "account statement" in found
    assert not any("xxxx" in phrase for phrase in phrases_of("XXXX did not send the statement", extractor="rules"))
    assert "xbox" in phrases_of("my xbox is broken")


def test_the_things_a_complaint_names_are_its_thing_words_as_lemmas() -> None:
    # Not the verbs ("waiting"), judgements ("terrible") or places ("Orlando") beside them.
    named = things_named("Terrible: my bags were lost in Orlando and the seats broken, still waiting")
    assert named == {"bag", "seat"}
