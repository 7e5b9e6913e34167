"""An issue's name: the thing complained about with what went wrong ("battery swelled", "cracked hinge").

The class-based TF-IDF in `phrases.label_issues` finds the phrase that sets an issue apart, but that is
often a lone verb ("swelled", "called") or a word that says nothing on its own ("post", "no notes").
This step keeps its choice when it already names a thing, and otherwise builds the name from the
issue's own phrases, each checked against the members: a phrase is only used when at least
MIN_SHARE of the issue's posts use it (or MIN_POSTS, for small issues).

1. a phrase of two or more words holding the chosen word, used by enough members ("battery swelled");
2. else the chosen word with the issue's most used thing ("swelled" + "battery");
3. a chosen thing with the state its posts share, an adjective in WordNet ("bottom" + "bulging");
4. else the chosen thing with the next thing its posts share ("phone & update"), or alone ("refund");
5. when the posts share no thing at all, the phrase of the most central post (the issue's first example)
   that most members use; never a generic word, a bare judgement ("bad"), a handle, a number or a phrase
   that starts or ends with a function word.

What is a thing and what is a state comes from WordNet's parts of speech (`vocabulary`); no tagger is
installable here. Topics are named apart (`name_topics`): by the thing most of their posts share, a verb
counting for the noun made from it ("delivered" for "delivery", `aspect_counts`), and a second thing beside
it when one comes close ("bag & luggage").

A brand's domain words (`domain_words`: "flight" for an airline, used by a large share of all its
complaints) say nothing about which problem an issue is, so they never name an issue alone: an
airline's delay group reads "flight" otherwise, its baggage and seating groups too.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping

from reputation.issues.phrases import lemma, phrases_of
from reputation.issues.vocabulary import (
    SERVICE_AREAS,
    is_noun,
    names_no_thing,
    noun_and_verb,
    noun_only,
    says_how,
    service_area,
)

MIN_SHARE = 0.2
MIN_POSTS = 2
# A single word used by at least this share of a brand's complaints is its domain word. Chosen on
# banking77, CFPB and the tuning half of the airline tweets (`python -m evals.topics_eval --split`).
DOMAIN_SHARE = 0.25
DOMAIN_CONCENTRATION = 0.5  # ... and of which no single issue holds more than this share
# A topic's second thing scores at least this share of its first's excess share (`name_topics`).
SECOND_THING = 0.5
# Answers and chat words ("yes", "wtf", "smh") say nothing of what: "yes" named a topic of 39 airline complaint
# tweets ("@united yes, and ..."), and at either end of a phrase they make a fragment ("wow flight").
_CHAT = frozenset(
    """lol jk lmao omg yep yeah yup nope hey hi hello pls plz thx thanks thank yes oh ah huh wow ugh wtf wat smh haha
    hahaha lmfao tbh btw idk fyi lmk rn af asap ty wanna gonna gotta""".split()
)
# The same times in the other languages posts most often come in (Spanish, Portuguese, French, German, Italian):
# "semanas" named a Spanish topic. Not German "Tag", which is an English thing ("bag tag").
_TIMES_ELSEWHERE = frozenset(
    """semana semanas día días dia dias mes meses año años ano anos hora horas minuto minutos hoy ayer mañana
    semaine semaines jour jours mois ans année années heure heures aujourd'hui hier demain
    woche wochen tage tagen monat monate monaten jahr jahre jahren stunde stunden minuten heute gestern morgen
    settimana settimane giorno giorni mese mesi anno anni ore minuti oggi ieri domani""".split()
)
# Words that name nothing a CX lead tracks (GENERIC, below): they make fragments ("post", "no notes", "year of
# buying"). Times and people say when and who, not what ("delivery > dec", "store > kid"); "problem" and "issue"
# say only that something is wrong.
_ENGLISH_GENERIC = frozenset(
    """post posts note notes thing things time times year years day days week weeks month months hour hours
    minute minutes people guy guys way lot bit today yesterday tomorrow ago anyone someone
    everyone everything anything nothing something pic pics photo photos reason question experience stuff
    story problem problems issue issues kind sort couple bunch
    shout shoutout kudos props
    january february march april june july august september october november december jan feb mar apr jun
    jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday weekend weekday weekdays
    tonight morning evening night
    wife husband kid kids son daughter mom dad mother father brother sister friend friends family
    yr yrs hr hrs min mins sec secs""".split()
)
GENERIC = _ENGLISH_GENERIC | _TIMES_ELSEWHERE | _CHAT
_FUNCTION = frozenset(
    """a an the and or but to of for on in at by with from my your our their his her its me you we they i
    it this that these those is are was were be been being have has had do does did so just very really
    also too not no u ur r ya yall""".split()
)
# Common verbs WordNet also lists as nouns ("come", "like", "need"): never what a complaint is about.
_PLAIN_VERBS = frozenset(
    """love hate like want need said get got make made go went come came know think feel felt put take took give
    gave look see saw keep kept let tell told ask fly flew found work""".split()
)
# How it felt, not what went wrong: never a name, nor a name's only word besides a negation ("isn't bad"). "super"
# is a noun in WordNet, but customers write it as praise ("super helpful"): it named four airline groups' topics.
_BARE_JUDGEMENT = frozenset(
    """bad good great terrible awful horrible worst best poor nice amazing ridiculous unacceptable disappointing
    disappointed annoying annoyed frustrated frustrating angry upset happy sad fine okay sorry excited glad better worse
    grateful thankful proud lucky crazy insane stupid pathetic super""".split()
)
_JUDGEMENT = _PLAIN_VERBS | _BARE_JUDGEMENT
# Adjectives that place or count a thing, in time too, but say nothing of what went wrong with it ("website new",
# "gate first", "phone latest").
_NEUTRAL = frozenset(
    "new old first last next other same different whole entire own real sure able latest recent current previous past"
    " prior".split()
)
_VERB_ENDING = re.compile(r"(?:ed|ing)$")
_NEGATION = re.compile(r"^(?:no|not|never|can't|won't|didn't|doesn't|isn't|hasn't|haven't|wasn't)\b")


def is_fragment(phrase: str) -> bool:
    """A phrase that cannot be an issue's name on its own."""
    words = phrase.lower().split()
    if not words or any(w.startswith("@") or w.startswith("#") for w in words):
        return True
    content = [w for w in words if w not in _FUNCTION and not _NEGATION.match(w)]
    # Times, people, words that only place or count a thing ("yr old", "first time", "new one") and how it felt
    # ("isn't bad", "so disappointed") say no what.
    if not content or all(
        w in GENERIC or w in _NEUTRAL or w in _BARE_JUDGEMENT or w.isdigit() or len(w) < 3 for w in content
    ):
        return True
    if len(words) > 2 and words[1] == "of" and words[0] in GENERIC:
        return True  # "kind of bug", "lot of delays": the thing is what follows, and it names the issue alone
    if words[0] in _CHAT or words[-1] in _CHAT:
        return True
    return words[-1] in _FUNCTION or (words[0] in _FUNCTION and not _NEGATION.match(words[0]))


def things_named(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    """The things a complaint names, as lemmas ("bags" -> "bag"): its single-word phrases that are things."""
    return {lemma(phrase) for phrase in phrases_of(text, ignore) if " " not in phrase and is_thing(phrase)}


def is_thing(word: str) -> bool:
    """A word that can stand for what is complained about: not a verb form, not generic, not a word WordNet
    knows only as a verb or adjective ("arrive", "rude"), not an inflected verb ("took", "sent")."""
    if word in SERVICE_AREAS:
        return True
    if _VERB_ENDING.search(word) or word in GENERIC or word in _FUNCTION or word.isdigit() or len(word) < 3:
        return False
    if word in _JUDGEMENT:  # plain verbs and bare judgements ("fine", "bad"), which WordNet also lists as nouns
        return False
    # The lookup table reads some words of their own as another's past ("number" -> "numb", "crew" -> "crow",
    # "ground" -> "grind"): a word WordNet lists as a noun and as a verb of its own is its own lemma.
    base = word if noun_and_verb(word) else lemma(word)
    # An inflection other than a plural is a verb form: "took", "sent", "caught", "broke" (but "children").
    if base != word and word not in (base + "s", base + "es", base[:-1] + "ies") and not noun_only(base):
        return False
    return not (names_no_thing(word) or names_no_thing(base))


# How English makes a noun of a verb, most specific first: deliver -> delivery, cancel -> cancellation,
# subscribe -> subscription, activate -> activation, connect -> connection, confirm -> confirmation, arrive ->
# arrival, renew -> renewal, ship -> shipment. A candidate counts only when WordNet lists it as a noun.
_NOMINALIZE = (
    (re.compile(r"(er)$"), r"\1y"),
    (re.compile(r"(el)$"), r"\1lation"),
    (re.compile(r"(scri)be$"), r"\1ption"),
    (re.compile(r"(\w{3,}at)e$"), r"\1ion"),  # not "state" -> "station", "rate" -> "ration"
    (re.compile(r"(\w{2,}ct)$"), r"\1ion"),  # not "act" -> "action"
    (re.compile(r"(rm|ll)$"), r"\1ation"),
    (re.compile(r"(iv|ov|us)e$"), r"\1al"),
    (re.compile(r"(ew)$"), r"\1al"),
    (re.compile(r"$"), "ment"),
)


@functools.lru_cache(maxsize=65_536)  # bounded: the words come from the internet, for as long as the worker runs
def noun_form(word: str) -> str | None:
    """The noun made from a customer's verb ("delivered" -> "delivery", "cancelled" -> "cancellation"), or None
    when the word is no regular form of a verb with such a noun. Irregular forms are left alone: their lemma
    is often a noun of its own ("stuck" -> "stick")."""
    word = word.lower()
    if word in _JUDGEMENT or word in GENERIC or word in _FUNCTION or len(word) < 4:
        return None
    base = lemma(word)
    stem = max(len(base) - 1, 3)
    if word != base and not (word.endswith(("ed", "ing")) and word[:stem] == base[:stem]):
        return None
    # The service a verb is about comes first: "booked" -> "booking", "shipped" -> "shipping", "billed" -> "billing".
    if area := service_area(base):
        return area
    for pattern, replacement in _NOMINALIZE:
        made = pattern.sub(replacement, base, count=1)
        if made != base and is_noun(made) and is_thing(made):
            return made
    return None


def aspect_counts(terms: Mapping[str, float], things: Collection[str]) -> dict[str, float]:
    """An issue's single-word things with their counts, what its topic is named from; a verb counts for the noun
    made from it ("never delivered" for "delivery", "got cancelled" for "cancellation") when that noun is among
    the brand's `things` (so no "dedication" from "dedicated" where nobody wrote it).

    Customers name an aspect with a verb as often as with its noun, and a CX lead's topics are nouns: the
    demo's escalations read "escalation > case escalated"."""
    counts: defaultdict[str, float] = defaultdict(float)
    for phrase, count in terms.items():
        if " " in phrase:
            continue
        thing = phrase if phrase in things else noun_form(phrase)
        # A service area counts even where the brand's posts show only its verb: a phrase's surface is the form
        # most of its posts wrote, so "billing" and "billed" are kept as one, shown "billed".
        if thing is not None and (thing in things or thing in SERVICE_AREAS):
            counts[thing] += count
    return dict(counts)


def _pairs_with(word: str, first: str) -> bool:
    """Whether `word` may stand beside `first` as a name's second thing: not the same word in another form, and
    not a word WordNet also lists as an adjective, which says how rather than what ("printer & dead", "gate &
    super" from "super helpful")."""
    return lemma(word) != lemma(first) and not says_how(word)


def went_wrong(word: str) -> bool:
    """A word that says what went wrong with a thing: an adjective or participle ("bulging", "late"), not a
    thing, not an adverb ("actually"), and not a bare judgement ("bad", "awful"), which says how it felt."""
    if is_thing(word) or word in GENERIC or word in _FUNCTION or word in _JUDGEMENT or word in _NEUTRAL:
        return False
    return len(word) >= 3 and not word.endswith("ly") and says_how(word)


def domain_words(profiles: Iterable[Mapping[str, float]], total: int) -> frozenset[str]:
    """Single words used by DOMAIN_SHARE of `total` complaints and spread over the issues (their phrase counts)."""
    counts: defaultdict[str, float] = defaultdict(float)
    largest: defaultdict[str, float] = defaultdict(float)  # the most posts one issue holds of it
    for terms in profiles:
        for phrase, count in terms.items():
            if " " not in phrase:
                counts[phrase] += count
                largest[phrase] = max(largest[phrase], count)
    # Spread over the issues, not the subject of one large issue ("exchange rate" in a bank's first sample).
    return frozenset(
        word
        for word, count in counts.items()
        if total and count >= DOMAIN_SHARE * total and largest[word] <= DOMAIN_CONCENTRATION * count
    )


def name_issue(
    chosen: str,
    terms: Mapping[str, float],
    size: int,
    domain: frozenset[str] = frozenset(),
    central: Mapping[str, float] | None = None,
) -> str:
    """The name for an issue whose distinctive phrase is `chosen`, from its phrase counts `terms`; `central` holds
    the phrases of its most central member (with their counts in the issue), the name when nothing is shared."""
    floor = max(MIN_POSTS, math.ceil(MIN_SHARE * size)) if size >= MIN_POSTS else 1
    shared = {
        phrase: count
        for phrase, count in terms.items()
        if count >= floor and not is_fragment(phrase) and phrase not in domain
    }
    words = chosen.lower().split()
    weak = is_fragment(chosen) or chosen.lower() in domain  # a fragment or a domain word: nothing to build on
    # A bare judgement ("bad", "great") starts a phrase ("great crew") but is never a name or half of one.
    judgement = chosen.lower() in _JUDGEMENT
    if len(words) > 1 and not is_fragment(chosen) and any(is_thing(w) for w in words):
        return chosen
    things = sorted((p for p in shared if " " not in p and is_thing(p)), key=lambda p: (-shared[p], p))
    # A fragment says nothing to build on: the issue's most used thing stands in for it.
    pivot = set(words) if not weak else set(things[:1])
    longer = sorted(
        (p for p in shared if " " in p and pivot & set(p.split()) and any(is_thing(w) for w in p.split())),
        key=lambda p: (-shared[p], -len(p), p),
    )
    if longer:
        return longer[0]
    if len(words) == 1 and is_thing(words[0]) and not weak:
        # A thing alone says what, not what went wrong: the word for that its posts share joins it
        # ("bottom" -> "bottom bulging").
        how = sorted((p for p in shared if " " not in p and went_wrong(p)), key=lambda p: (-shared[p], p))
        if how:
            return f"{chosen} {how[0]}"
        # No shared state: the next thing its posts share says more than the thing alone ("phone & update" for
        # an iOS update that drains batteries), as topics take a second thing. Issue names that name their gold
        # topic rose on some sets and fell on none (`python -m evals.topics_eval --split --resample 14`):
        # held-out halves of the airline tweets 0.41 -> 0.46 and 0.48 -> 0.52, complaint reasons 0.25 -> 0.26,
        # banking77 0.80 -> 0.81; over subsets 0.43 level and 0.54 -> 0.56 (no subset lower).
        other = [t for t in things if _pairs_with(t, chosen)]
        return f"{chosen} & {other[0]}" if other else chosen
    if len(words) == 1 and not weak and not judgement and things:
        return f"{things[0]} {chosen}"
    # A lone verb with no specific thing shared: the domain word carries it ("flight delayed", not "delayed").
    carriers = sorted((w for w in domain if terms.get(w, 0.0) >= floor and is_thing(w)), key=lambda w: (-terms[w], w))
    if len(words) == 1 and not weak and not judgement and not is_thing(words[0]) and carriers:
        return f"{carriers[0]} {chosen}"
    if things:
        return things[0]
    if len(words) > 1 and not weak:
        return chosen
    # Nothing the posts share names a thing: the most typical post names it, as one of them would; failing
    # that, a domain word most of them use still says what the issue is about.
    typical = _central(central or {}, domain)
    if typical:
        return typical
    return carriers[0] if carriers else _most_used(terms, domain)


def tell_apart(
    named: str, terms: Mapping[str, float], size: int, taken: set[str], domain: frozenset[str] = frozenset()
) -> str:
    """A name for an issue whose name `named` a larger issue already holds: still the thing it names, told apart.

    Replacing the name with the issue's next free phrase ("exchange rate" -> "rate", "top up" -> "cash") lost
    the thing: keeping it took banking77's issue names that name their intent from 0.52 to 0.63 (`python -m
    evals.topics_eval`), the airline support tweets' from 0.28 to 0.31.

    First a longer phrase with the same thing used by enough members ("transfer fee" -> "transfer fee
    charged"), else the name with the members' most used free phrase after a slash ("top up / cash"), else
    the name as it is: two issues reading alike is better than one named by a single post's aside.
    """
    floor = max(MIN_POSTS, math.ceil(MIN_SHARE * size))
    words = set(named.split())
    heads = {w for w in words if is_thing(w)} or words
    order = sorted(terms, key=lambda p: (-terms[p], -len(p), p))
    for phrase in order:
        parts = set(phrase.split())
        shared = terms[phrase] >= floor and phrase not in taken
        if len(parts) > 1 and heads & parts and shared and not is_fragment(phrase):
            return phrase
    for phrase in order:
        # Used by at least two posts, as every name is: a one-post aside ("reallyyy unamused") tells nothing.
        usable = terms[phrase] >= MIN_POSTS and (" " in phrase or is_thing(phrase))
        if usable and phrase not in taken | domain and not is_fragment(phrase) and not words & set(phrase.split()):
            told = f"{named} / {phrase}"
            if told not in taken:
                return told
    return named


def _central(phrases: Mapping[str, float], domain: frozenset[str] = frozenset()) -> str:
    """The phrase of the most central member that the most members use, then the one of more words (it says
    more): one holding a thing, not a fragment or a domain word alone; "" when it has none.

    Before, the most used phrase over all members was taken, and as no phrase was used twice the tie went to
    the alphabet: "put", "sky" and "look" named airline groups."""
    usable = [p for p in phrases if not is_fragment(p) and p not in domain and any(is_thing(w) for w in p.split())]
    if not usable:
        return ""
    # Then a phrase whose things WordNet lists only as nouns: "hope" and "refuse" can be verbs, "money" cannot.
    # The demo's two loosest groups were "hope" and "dad refuse"; they now read "money" and "real people".
    return max(usable, key=lambda p: (phrases[p], len(p.split()), _only_nouns(p), -len(p), p))


def _only_nouns(phrase: str) -> bool:
    return all(noun_only(w) for w in phrase.split() if is_thing(w))


def _most_used(terms: Mapping[str, float], domain: frozenset[str] = frozenset()) -> str:
    """The member texts' most used phrase that is not a fragment."""
    usable = [p for p in terms if not is_fragment(p) and (" " in p or is_thing(p))]
    usable = [p for p in usable if p not in domain] or usable
    return max(usable, key=lambda p: (terms[p], -len(p), p)) if usable else "unlabelled"


def name_topics(
    profiles: Mapping[str, Mapping[str, float]],
    sizes: Mapping[str, int],
    compounds: Mapping[str, Mapping[str, float]] | None = None,
    domain: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Each topic's name: the thing its posts name more often than the brand's other posts do, with a second
    such thing when one comes close ("bag & luggage", "card & activation"), as CX taxonomies name their
    categories ("Shipping & Delivery"); the two as one phrase when the posts write them so ("credit card").

    Scored by excess share (share of the topic's posts using the word less its share over all topics), so
    a word must be both common in the topic and more common there than elsewhere: class-based TF-IDF, which
    names issues, rewards rarity and picks a word three posts used ("creamer", "bucharest") where a CX lead
    tracks the thing most of them are about ("seat", "bag", "wifi"). `compounds` holds each topic's phrases of
    two words with their counts; a brand's `domain` word ("flight") is never the second thing, nor a word WordNet
    also lists as an adjective ("gate & super" from "super helpful").

    A topic is wider than its issues, and one word often names only part of it. The second thing took the
    share of groups of 3+ whose "topic > issue" names their gold label from 0.77 to 0.81 on banking77, 0.30 to
    0.32 on CFPB, 0.39 to 0.48 and 0.38 to 0.41 on the tuning halves of the airline tweets; on their held-out
    halves it stayed (0.50, 0.40) while the topic names alone rose (0.40 to 0.47, 0.17 to 0.22). `python -m
    evals.topics_eval --split`; SECOND_THING 0.5 was chosen over 0.7 on the tuning sets.
    """
    total = sum(sizes.get(t, 0) for t in profiles) or 1
    overall: defaultdict[str, float] = defaultdict(float)
    for terms in profiles.values():
        for word, count in terms.items():
            overall[word] += count
    names: dict[str, str] = {}
    for topic_id, terms in profiles.items():
        size = max(sizes.get(topic_id, 1), 1)
        floor = max(MIN_POSTS, math.ceil(MIN_SHARE * size))
        scored = sorted(
            (
                (count / size - overall[word] / total, word)
                for word, count in terms.items()
                if count >= floor and " " not in word and is_thing(word)
            ),
            reverse=True,
        )
        if not scored:
            continue
        top, best = scored[0]
        close = [
            word
            for score, word in scored[1:]
            if top > 0 and score >= SECOND_THING * top and word not in domain and _pairs_with(word, best)
        ]
        if not close:
            names[topic_id] = best
            continue
        written = (compounds or {}).get(topic_id, {})
        together = [p for p in (f"{best} {close[0]}", f"{close[0]} {best}") if written.get(p, 0.0) >= floor]
        names[topic_id] = together[0] if together else f"{best} & {close[0]}"
    return names
