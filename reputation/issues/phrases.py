"""Label phrases for issues: short phrases a person would write, scored per issue against the others.

Two extractors offer the candidate phrases of a text:

- ``"spacy"``, the DEFAULT: spaCy's English tokenizer (``spacy.blank("en")``: no trained pipeline is
  installable here, so no tagger or parser) with its lexical attributes (stop words, numbers, URLs,
  e-mails, punctuation) and its lookup lemmatizer fed by spacy-lookups-data's English ``lemma_lookup``
  table. Without a parser, noun phrases come from lexical patterns: runs of 1-3 content words with no stop
  word or punctuation between ("exchange rate", "disposable virtual card") and "X of Y" ("source of
  funds"); plus particle verbs ("top up", "log in"), negations ("not received", "can't log in", "didn't
  get refund", "no signal") and negations with the word before them ("card hasn't arrived", "contactless
  won't work"). A word right after a subject, a modal or "to" ("I see", "to pay") is a verb in that
  text: it starts phrases but is not counted alone, so it cannot name an issue as a thing.
- ``"rules"``, the fallback when spaCy cannot be imported, and selectable (``REPUTATION_LABEL_PHRASES=rules``
  or the ``extractor`` argument): regular expressions for negated verbs ("not received", "can't log in"),
  bigrams and single content words, lemmatised with a few suffix rules.

spaCy is the default because, with the same untuned scoring, it does at least as well as the rules on
the held-out half of banking77's intents and better on the tuning half (``python -m
evals.label_eval``; hit: the label shares a lemma with the intent name; F1: token F1):
held-out hit 0.795 for both, F1 0.488 vs 0.463 (distinct labels 25 vs 27 of 39); tuning half hit 0.842
vs 0.789, F1 0.520 vs 0.485. Its labels also keep the negation as written ("card isn't working" where
the rules say "card"). A scoring tuned for spaCy on the tuning half (``SPACY_TUNED_SCORING``,
``label_eval --grid``) overfit: hit 0.921 on the half it was tuned on but 0.718 on the held-out half, so
label_eval reports it and ``label_issues`` does not use it.
``extractor_in_use()`` says which extractor runs; asking for spaCy without it installed gives the rules.

Surface form and key (spaCy extractor). Each phrase has a *key* made of lemmas, which is what is
counted and compared across issues ("not receive", "can't log in", "refund"), and a *surface* that is
shown: plural nouns become singular ("refunds" -> "refund"), every other word keeps the form it was
written in ("declined", "pending", "not received", "isn't working") because lemmas read badly as labels
("pend transfer", "not receive"). Negators are written contracted as in the text ("didn't", "haven't",
"can't"); "cannot", "could not" and "couldn't" share the key "can't", every other negation (not, never,
didn't, won't, isn't...) the key "not". An issue stores the surface most of its texts used for each key.

Issues are labelled with the phrase that is frequent in the issue and rare in the brand's other issues
(class-based TF-IDF, as in BERTopic), with one untuned scoring (``DEFAULT_SCORING``) for both extractors.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reputation.issues.places import place_words
from reputation.issues.vocabulary import is_known, is_noun, service_area
from reputation.text.language import UNDETERMINED, detect_language

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Token

log = logging.getLogger(__name__)

Extractor = Literal["spacy", "rules"]
EXTRACTOR_ENV = "REPUTATION_LABEL_PHRASES"
DEFAULT_EXTRACTOR: Extractor = "spacy"  # the rules when spaCy cannot be imported; see the module docstring
PHRASES_KEPT = 60  # per issue; enough to label it, small enough to store


@dataclass(frozen=True)
class Scoring:
    """How `label_issues` weighs a phrase: share * log(1 + n_issues * count / spread) ** rarity_power * bonus."""

    min_share: float = 0.15  # a phrase needs this share of the issue's texts ...
    min_count: int = 3  # ... or this many texts
    at_least: int = 1  # and, in issues of that many texts or more, at least this many
    per_extra_word: float = 0.5  # bonus per word beyond the first ...
    max_extra_words: int = 2  # ... counted up to this many
    negation_bonus: float = 0.3  # negations name the problem itself
    rarity_power: float = 1.0  # weight of the inverse issue frequency against the share
    distinct: bool = False  # no two issues get the same label while either has another phrase left


DEFAULT_SCORING = Scoring(at_least=2)  # both extractors
# Best of `python -m evals.label_eval --grid` for spaCy, on the tuning half of banking77's intents
# only. It overfit (hit 0.921 on that half, 0.718 on the held-out half, against 0.795 untuned), so
# `label_issues` does not use it; label_eval keeps reporting it. `at_least=2` was not tuned (it changes
# nothing on banking77's groups of 40).
SPACY_TUNED_SCORING = Scoring(per_extra_word=2.0, negation_bonus=0.3, rarity_power=2.0, at_least=2)


def extractor_in_use(extractor: str | None = None) -> Extractor:
    """The extractor that runs: the one asked for (argument, environment, else spaCy); the rules if spaCy won't load."""
    wanted = _wanted(extractor or os.environ.get(EXTRACTOR_ENV) or DEFAULT_EXTRACTOR)
    return "spacy" if wanted == "spacy" and _spacy() is not None else "rules"


@functools.cache
def _wanted(asked: str) -> Extractor:
    # Cached: every lemma and phrase key asks (300,000 times for 8,000 tweets through `reputation analyze`).
    wanted = asked.strip().lower()
    if wanted == "spacy":
        return "spacy"
    if wanted == "rules":
        return "rules"
    raise ValueError(f"unknown phrase extractor {wanted!r}; use 'spacy' or 'rules'")


def lemma(word: str, extractor: str | None = None) -> str:
    """A word's lemma: spaCy's lookup table (lower-cased), else plural nouns to singular."""
    nlp = _spacy() if extractor_in_use(extractor) == "spacy" else None
    return nlp.lemma(word.lower()) if nlp is not None else _suffix_lemma(word)


def phrases_of(text: str, ignore: frozenset[str] = frozenset(), extractor: str | None = None) -> set[str]:
    """The candidate label phrases one text offers (each counted once per text), as they are shown."""
    nlp = _spacy() if extractor_in_use(extractor) == "spacy" else None
    return set(nlp.phrases(text, ignore)) if nlp is not None else _rule_phrases(text, ignore)


def phrase_key(phrase: str, extractor: str | None = None) -> str:
    """What is counted for a phrase: its lemmas ("not received" and "haven't received" -> "not receive")."""
    nlp = _spacy() if extractor_in_use(extractor) == "spacy" else None
    return nlp.key(phrase) if nlp is not None else phrase


def add_phrases(
    counts: dict[str, float], texts: Iterable[str], ignore: frozenset[str], extractor: str | None = None
) -> dict[str, float]:
    """Fold the texts' phrases into an issue's document counts, keeping the strongest."""
    nlp = _spacy() if extractor_in_use(extractor) == "spacy" else None
    if nlp is None:
        merged: Counter[str] = Counter(counts)
        for text in texts:
            merged.update(_rule_phrases(text, ignore))
        return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:PHRASES_KEPT])
    # Counted by key; shown with the surface most texts used (ties: the shorter, then alphabetical).
    surfaces: defaultdict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
    for phrase, count in counts.items():
        surfaces[nlp.key(phrase)][phrase] += count
    for text in texts:
        for phrase in nlp.phrases(text, ignore):
            surfaces[nlp.key(phrase)][phrase] += 1.0
    shown: dict[str, float] = {}
    for seen in surfaces.values():
        surface = min(seen, key=lambda phrase: (-seen[phrase], len(phrase), phrase))
        shown[surface] = float(sum(seen.values()))
    return dict(sorted(shown.items(), key=lambda item: (-item[1], item[0]))[:PHRASES_KEPT])


def label_issues(
    profiles: Mapping[str, Mapping[str, float]],
    sizes: Mapping[str, int],
    extractor: str | None = None,
    scoring: Scoring | None = None,
) -> dict[str, str]:
    """Class-based TF-IDF over the issues given: the best phrase of each, longer phrases preferred."""
    used = extractor_in_use(extractor)
    nlp = _spacy() if used == "spacy" else None
    scoring = scoring or DEFAULT_SCORING
    key: Callable[[str], str] = nlp.key if nlp is not None else str
    if nlp is not None:
        negated: Callable[[str], bool] = lambda phrase: not _NEGATOR_KEYS.isdisjoint(key(phrase).split())  # noqa: E731
    else:
        negated = lambda phrase: phrase.split()[0] in _NEGATOR_FORMS  # noqa: E731
    spread: defaultdict[str, float] = defaultdict(float)
    for counts in profiles.values():
        for phrase, count in counts.items():
            spread[key(phrase)] += count
    n_issues = max(len(profiles), 1)
    ranked: dict[str, list[tuple[float, str]]] = {}
    for issue_id, counts in profiles.items():
        size = max(sizes.get(issue_id, 1), 1)
        scored = []
        for phrase, count in counts.items():
            share = count / size
            if (share < scoring.min_share and count < scoring.min_count) or count < min(scoring.at_least, size):
                continue
            words = phrase.count(" ") + 1
            bonus = (
                1.0
                + scoring.per_extra_word * min(words - 1, scoring.max_extra_words)
                + (scoring.negation_bonus if negated(phrase) else 0.0)
            )
            rarity = math.log(1.0 + n_issues * count / max(spread[key(phrase)], count))
            scored.append((share * rarity**scoring.rarity_power * bonus, phrase))
        ranked[issue_id] = sorted(scored, key=lambda item: (-item[0], item[1]))
    labels = {
        issue_id: scored[0][1] if scored else _fallback(profiles[issue_id]) for issue_id, scored in ranked.items()
    }
    if scoring.distinct:
        _tell_apart(labels, ranked, key)
    return labels


def _tell_apart(
    labels: dict[str, str], ranked: Mapping[str, list[tuple[float, str]]], key: Callable[[str], str]
) -> None:
    """Issues sharing a label: the one that holds it best keeps it, the others take their next phrase."""
    taken: dict[str, str] = {}  # label key -> issue
    order = sorted(ranked, key=lambda issue_id: (-(ranked[issue_id][0][0] if ranked[issue_id] else 0.0), issue_id))
    for issue_id in order:
        for _, phrase in ranked[issue_id]:
            if key(phrase) not in taken:
                labels[issue_id] = phrase
                break
        taken.setdefault(key(labels[issue_id]), issue_id)


def _fallback(counts: Mapping[str, float]) -> str:
    return max(counts, key=lambda phrase: (counts[phrase], phrase)) if counts else "unlabelled"


# --- spaCy extractor -------------------------------------------------------------------------------------------

# spaCy's stop words, less those that name a problem here ("top up", "amount", "call", "name", "show"...),
# plus the chatter of complaints (as the rule extractor has it).
_KEPT_STOP_WORDS = frozenset(
    "top amount call name empty full move show give keep take put see bottom front side part serious".split()
)
_CHATTER = frozenset(
    """get got getting gets today yesterday tomorrow day days week weeks time times thing things going went go
    said say says tell told ask asked guys guy anyone lol omg please pls plz thanks thank thx hi hey hello help
    need needed want wanted know knew like way make sure ok okay well im ive wonder wondering try tried trying
    let think able would could can will shall might must may etc wo ca sha ai nt gon na wan ta""".split()
)
# Words between a negator and its verb that are skipped: "haven't yet received", "doesn't seem to work".
_NEGATION_GAP = frozenset(
    """be been being is was are were yet even ever still really actually already properly always able to at all
    currently correctly quite fully just seem seems seemed appear appears appeared""".split()
)
_LIGHT_VERBS = frozenset("get got gets getting have has had having".split())  # "didn't get (my) refund"
_DETERMINERS = frozenset("my the a an any your our their its this that these those his her me us them it".split())
_PARTICLES = frozenset("up in out on off back through down over away".split())
# Verbs read with a following particle ("top up", "go through"); others are not ("delivered on", "card in").
_PARTICLE_VERBS = frozenset(
    """top log sign get go come show pay cash turn set fill look check give take put pick hold hang lock freeze
    send call break shut switch sort clear run load work back cut lay write print start""".split()
)
_CONTRACTED = {"ca": "can't", "wo": "won't", "sha": "shan't", "ai": "ain't"}
_UNSPLIT = {  # negations the tokenizer leaves whole (e.g. in capitals)
    "cant": "can't",
    "cannot": "can't",
    "couldnt": "couldn't",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "wont": "won't",
    "wouldnt": "wouldn't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "arent": "aren't",
    "werent": "weren't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "never": "never",
}
_NOT_AFTER = {  # "did not receive" reads as "didn't receive"; "have not received" as "not received"
    "can": "can't",
    "could": "couldn't",
    "will": "won't",
    "would": "wouldn't",
    "do": "don't",
    "does": "doesn't",
    "did": "didn't",
}
_AUXILIARIES = frozenset(
    "is are was were be been has have had do does did can could will would should ca wo sha must may".split()
)
_CAN_NOT = frozenset({"can't", "cannot", "couldn't"})
# A word right after these is read as a verb in that text ("I see", "to pay", "can't check"): alone, it names
# no thing, though it still starts a phrase ("to check bags" -> "check bag").
_VERB_CUES = frozenset(
    """i you we they he she to can could will would should must might may please pls plz ca wo do does did n't nt
    n’t 'll ’ll""".split()
)
_NEGATOR_KEYS = frozenset({"not", "can't", "no"})
_NEGATION_WORDS = frozenset({"n't", "nt", "n’t", "not", "no", *_UNSPLIT})
# What a redaction left ("XXXX" in the CFPB's narratives) says nothing, in either extractor.
_MASK = re.compile(r"x{2,}")


class _Spacy:
    """spaCy's blank English tokenizer and lookup lemmas, loaded once."""

    def __init__(self, nlp: Language, lemmas: Callable[[str], str]) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS

        self.nlp = nlp
        self.lemma = functools.lru_cache(maxsize=65536)(lemmas)
        self.stop = frozenset(STOP_WORDS - _KEPT_STOP_WORDS) | _CHATTER
        self.key = functools.lru_cache(maxsize=65536)(self._key)
        # Reposts and templates repeat texts; each distinct one is tokenised once.
        self.phrases = functools.lru_cache(maxsize=16384)(self._phrases)

    def _key(self, phrase: str) -> str:
        words = phrase.lower().split()
        return " ".join(_negator_key(word) or self.lemma(word) for word in words)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per process (`_spacy`), a few languages
    def stop_for(self, language: str) -> frozenset[str]:
        """English stop words, and for a post in another language that language's too, from the lists spaCy
        ships (nothing is downloaded): a Spanish post's "mi pedido" is "pedido", its "batería se" "batería"."""
        if language in ("en", UNDETERMINED):
            return self.stop
        try:
            import spacy.util

            own = spacy.util.get_lang_class(language).Defaults.stop_words
        except (ImportError, AttributeError, KeyError, ValueError):  # a language spaCy has no class for
            return self.stop
        return self.stop | frozenset(own)

    def content(self, token: Token, text: str, ignore: frozenset[str], stop: frozenset[str]) -> str:
        """The token's lower-case text when it is a content word, else ""."""
        if len(text) < 2 or text in stop or text in ignore or not token.is_alpha or token.like_num:
            return ""
        if _MASK.fullmatch(text):
            return ""
        base = self.lemma(text)
        return "" if base in stop or base in ignore else text

    def shown(self, word: str) -> str:
        """Plural nouns singular ("refunds" -> "refund"); other forms as written ("declined", "pending")."""
        base = self.lemma(word)
        if base != word and (word in (base + "s", base + "es") or (base.endswith("y") and word == base[:-1] + "ies")):
            return base
        return word

    def _phrases(self, text: str, ignore: frozenset[str]) -> frozenset[str]:
        # Shouting is lower-cased (spaCy splits "can't" but not "CAN'T" reliably); otherwise case is kept so
        # that "ID" is not read as "I'd".
        # Lone surrogates (broken upstream JSON) cannot be hashed by spaCy's string store.
        text = text.encode("utf-8", errors="replace").decode("utf-8")
        doc = self.nlp.make_doc(text.lower() if not any(c.islower() for c in text) else text)
        tokens: list[Token] = []
        glued = False  # the previous token has no space after it
        for token in doc:
            # "top-up": the hyphen inside a word joins rather than breaks.
            if not (glued and token.text == "-" and not token.whitespace_):
                tokens.append(token)
            glued = not token.whitespace_
        lower = [token.lower_ for token in tokens]
        language = detect_language(text)
        stop = self.stop_for(language)
        places = place_words([token.text for token in tokens], language)
        words: list[str] = []  # content word, or "" (anything else breaks a noun phrase)
        for i, token in enumerate(tokens):
            hashtag = i > 0 and lower[i - 1] == "#"
            # A hashtag run together ("#DestinationDragons") or holding the brand is a tag, not a phrase; a
            # place says where, not what went wrong ("stuck in Miami", `reputation.issues.places`).
            if (
                lower[i].startswith("@")
                or i in places
                or (hashtag and (not is_known(lower[i]) or any(w in lower[i] for w in ignore if len(w) > 3)))
            ):
                words.append("")
            else:
                words.append(self.content(token, lower[i], ignore, stop))
        found: set[str] = set()
        for i, word in enumerate(words):
            if word:
                # ... unless the verb is the customer's word for a service area ("trying to book" for "booking").
                if not (i and lower[i - 1] in _VERB_CUES) or service_area(self.lemma(word)):
                    found.add(self.shown(word))
                run = [word]
                for following in words[i + 1 : i + 3]:
                    if not following or following in run:
                        break
                    run.append(following)
                    found.add(" ".join(self.shown(w) for w in run))
                if i + 2 < len(words) and lower[i + 1] == "of" and words[i + 2]:
                    found.add(f"{self.shown(word)} of {words[i + 2]}")
            after = lower[i + 1] if i + 1 < len(lower) else ""
            if after in _PARTICLES and lower[i] not in ignore and self.lemma(lower[i]) in _PARTICLE_VERBS:
                found.add(f"{lower[i]} {after}")
            negator = self.negator(lower, i) if lower[i] in _NEGATION_WORDS else ""
            if negator:
                phrase = self.negated(lower, words, i + 1, ignore, light=negator != "no")
                if phrase:
                    found.add(f"{negator} {phrase}")
                    subject = self.subject(lower, words, i) if negator != "no" else ""
                    if subject:
                        found.add(f"{subject} {negator} {phrase}")
        return frozenset(found)

    def subject(self, lower: list[str], words: list[str], i: int) -> str:
        """The content word just before a negation and its auxiliary: "card [still] hasn't arrived"."""
        j = i - 1
        if lower[i] in _UNSPLIT:
            pass  # "card cant load": the auxiliary is in the negator
        elif lower[i] != "not" or (j >= 0 and lower[j] in _AUXILIARIES):
            j -= 1  # the auxiliary that carries "n't" or comes before "not"
        if j >= 0 and lower[j] in ("still", "just", "yet", "really"):
            j -= 1
        return self.shown(words[j]) if j >= 0 and words[j] else ""

    @staticmethod
    def negator(lower: list[str], i: int) -> str:
        """How the negation at token i is written ("not", "didn't", "can't", "no"), or "" if none is there."""
        text = lower[i]
        before = lower[i - 1] if i else ""
        if text in ("n't", "nt", "n’t"):
            return _CONTRACTED.get(before, before + "n't") if before.isalpha() else ""
        if text == "not":
            return _NOT_AFTER.get(before, "not")
        if text == "no":
            return "no" if i + 1 >= len(lower) or lower[i + 1] not in ("longer", "more", "one") else ""
        return _UNSPLIT.get(text, "")

    def negated(self, lower: list[str], words: list[str], start: int, ignore: frozenset[str], light: bool) -> str:
        """What a negator governs, as written: "received", "log in", "get refund", "working"."""
        i = start
        while i < len(lower) and lower[i] in _NEGATION_GAP and i - start < 3:
            i += 1
        if i >= len(lower):
            return ""
        verb = lower[i]
        has_particle = i + 1 < len(lower) and lower[i + 1] in _PARTICLES
        if words[i] or (verb.isalpha() and has_particle and self.lemma(verb) in _PARTICLE_VERBS):
            if verb in ignore:
                return ""
            return f"{verb} {lower[i + 1]}" if has_particle else verb
        if light and verb in _LIGHT_VERBS:
            j = i + 1
            while j < len(lower) and lower[j] in _DETERMINERS and j - i < 3:
                j += 1
            if j < len(lower) and words[j]:
                return f"{verb} {self.shown(words[j])}"
        return ""


def _negator_key(word: str) -> str:
    word = _UNSPLIT.get(word, word)
    if word in _CAN_NOT:
        return "can't"
    if word in ("not", "never") or word.endswith(("n't", "n’t")):
        return "not"
    return "no" if word == "no" else ""


@functools.cache
def _spacy() -> _Spacy | None:
    try:
        import spacy

        nlp = spacy.blank("en")
        lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()  # loads spacy-lookups-data's English lemma_lookup table; nothing is downloaded
        # add_pipe is typed as returning a bare Callable[[Doc], Doc]; this one is a Lemmatizer, with lookups.
        table = lemmatizer.lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    except (ImportError, OSError, ValueError, KeyError) as error:
        log.warning("spaCy label phrases unavailable (%s); using the rule-based extractor", error)
        return None

    def lookup(word: str) -> str:
        found = table.get(word)
        if not isinstance(found, str):
            # Not in the table ("atms", product names): a plural -s still goes, as in the rule-based lemmatizer
            # (not from "christmas" or "dallas": plurals in -as are in the table).
            plural = len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "os", "as"))
            found = word[:-1] if plural else word
        # A noun in -s of its own is no plural: "news" is not "new", "series" not "serie", "lens" not "len".
        if found != word and word.endswith("s") and is_noun(word) and not is_noun(found):
            return word
        return found

    return _Spacy(nlp, lookup)


# --- rule-based extractor (fallback) ---------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z][a-z']*|[.!?,;:]")
_NOISE = re.compile(r"@\w+|#|https?://\S+|www\.\S+")
_NEGATORS = {
    "not": "not",
    "no": "no",
    "never": "never",
    "cant": "can't",
    "can't": "can't",
    "cannot": "can't",
    "won't": "won't",
    "wont": "won't",
    "didn't": "didn't",
    "didnt": "didn't",
    "doesn't": "doesn't",
    "doesnt": "doesn't",
    "don't": "don't",
    "dont": "don't",
    "isn't": "not",
    "wasn't": "not",
    "haven't": "not",
    "hasn't": "not",
    "havent": "not",
    "hasnt": "not",
    "aren't": "not",
    "couldn't": "can't",
}
_NEGATOR_FORMS = frozenset(_NEGATORS.values())
_AUX = {"be", "been", "being", "get", "got", "yet", "even", "ever", "able", "to", "i", "we", "it", "my", "still"}
_RULE_PARTICLES = {"in", "out", "up", "on", "off", "back", "through", "down"}
_STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can could did do
    does doing for from get got had has have having he her here him his how i i'm i've if in into is it it's
    its just me more my myself now of off on once only or other our out over own same she should so some
    still such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who why will with would you your yours im ive id
    one two three even back really today yesterday day days week weeks time times thing things going went
    go said say says tell told ask asked guys anyone lol omg please thanks thank hi hey help need want
    know like way make sure much many since ago why yet ok okay well got getting""".split()
)


def _suffix_lemma(word: str) -> str:
    """Plural nouns to singular; enough that "refunds" and "refund" meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word.removesuffix("'s")


def _rule_phrases(text: str, ignore: frozenset[str]) -> set[str]:
    tokens = _TOKEN.findall(_NOISE.sub(" ", text.lower()))
    found: set[str] = set()
    content: list[str | None] = []  # None breaks a bigram
    for i, token in enumerate(tokens):
        if token in _NEGATORS:
            phrase = _rule_negated(tokens, i + 1, ignore)
            if phrase:
                found.add(f"{_NEGATORS[token]} {phrase}")
            content.append(None)
        elif (
            token in ignore or token in _STOPWORDS or len(token) < 3 or not token[0].isalpha() or _MASK.fullmatch(token)
        ):
            content.append(None)
        else:
            word = _suffix_lemma(token)
            found.add(word)
            content.append(word)
    for a, b in itertools.pairwise(content):
        if a and b and a != b:
            found.add(f"{a} {b}")
    return found


def _rule_negated(tokens: list[str], start: int, ignore: frozenset[str]) -> str:
    """The verb (with its particle) a negator governs: "not [been] received", "can't log in"."""
    i = start
    while i < len(tokens) and tokens[i] in _AUX and i - start < 3:
        i += 1
    if i >= len(tokens) or not tokens[i][0].isalpha() or tokens[i] in _STOPWORDS or tokens[i] in ignore:
        return ""
    verb = tokens[i]
    if i + 1 < len(tokens) and tokens[i + 1] in _RULE_PARTICLES:
        return f"{verb} {tokens[i + 1]}"
    return verb
