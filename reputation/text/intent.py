"""What a customer post wants: help, an answer, to report a fault, to vent, to leave.

Rule-based on purpose: alert rules need decisions a CX lead can read and argue
with ("a detractor is negative and angry or needing help"), and the cues are few
and stable. Every pattern is compiled once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from reputation.text.sentiment import MAX_CHARS, NEGATIVE, Sentiment

# Below this compound a post reads as angry even without an insult, provided it
# shouts (caps, "!!", "??") too; plain negative posts are merely unhappy.
ANGRY_COMPOUND = -0.6


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE)


_QUESTION = re.compile(
    r"\?|^\s*(?:@\w+\s+)*(?:(?:hi|hello|hey)\b[\s,!.]*)?(?:what|when|where|which|who|whom|why|how"
    r"|is|are|am|do|does|did|can|could|will|would|should|may|has|have|anyone|anybody)\b",
    re.IGNORECASE,
)
_HELP = _any(
    r"help(?: me| us| please|!)?",
    r"(?:can|could|would|will) (?:you|someone|somebody|anyone|anybody|u)(?: please| pls)? (?:help|"
    r"check|look into|fix|sort|explain|tell|confirm|advise|assist|call|contact|dm|get back)",
    r"(?:please|pls|plz) (?:help|advise|fix|check|respond|reply|dm|contact|call|look into|sort|assist)",
    r"(?:dm|pm|message|call) me",
    r"how (?:do|can|should) (?:i|we)",
    r"(?:who|where) (?:do|can|should) (?:i|we)",
    r"what (?:do|should|can) (?:i|we) do",
    r"(?:i |we )?need (?:help|assistance|support|someone|a human|an answer|a refund|a replacement)",
    r"is there (?:a way|any way|anyone|someone)",
    r"(?:any|anyone)(?: got| have)? (?:advice|ideas|tips)",
    r"(?:anyone|anybody) know",
    r"(?:can'?t|cannot|unable to|not able to) (?:log ?in|sign in|access|pay|reset|find|cancel|"
    r"transfer|check ?out|get through|reach|contact)",
)
_PROBLEM = _any(
    r"(?:doesn'?t|does not|don'?t|won'?t|will not|didn'?t|did not|isn'?t|is not|not|stopped|"
    r"no longer|never|can'?t|cannot) (?:work\w*|turn\w* on|charg\w*|load\w*|connect\w*|boot\w*|"
    r"arrive\w*|deliver\w*|come|came|ship\w*|respond\w*|sync\w*|start\w*|open\w*)",
    r"broken|broke|bricked|defective|faulty|damaged|cracked|smashed|dead|died|leak\w*|melted|overheat\w*",
    r"crash\w*|freez\w*|glitch\w*|bug(?:gy|s)?|error\w*|outage|(?:is|was|went|been|are|keeps going) (?:down|offline)",
    r"(?:no|lost|dropp\w*) (?:signal|internet|service|wifi|wi-fi|connection|power|coverage)|dropped calls?",
    r"never (?:arrived|received|got|came|showed up|heard back)|not (?:arrived|received|delivered) yet|lost in transit",
    r"missing|wrong (?:item|order|size|address|product|colou?r|charge|amount)|lost (?:my|our|the)",
    r"(?:charged|billed) (?:me )?(?:twice|double|again)|double[- ]charged|overcharged|"
    r"hidden (?:fees?|charges?)|chargeback",
    r"(?:no|still no|where(?: is|'s) my|waiting (?:for|on) (?:my|a|the)|want (?:my|a)|"
    r"never got (?:my|a)|refus\w* to) refund|refund (?:request|denied|refused|pending|still|"
    r"was promised)",
    r"delayed|delay|cancell?ed (?:my|our|the)|overbooked|bumped|stranded",
    r"locked out|(?:account|card) (?:was |got |is )?(?:locked|blocked|frozen|closed|suspended)|fraud\w*|cloned|hacked",
    r"still (?:waiting|no|not|broken|down|pending|missing)|on hold|no (?:response|reply|answer|update)",
    r"keeps? (?:crashing|freezing|dropping|disconnecting|failing|logging (?:me|us) out)",
    r"something went wrong|(?:not|isn'?t) working|fails?|failed|failing",
)
_ANGRY = _any(
    r"worst|terrible|horrible|awful|pathetic|disgust\w*|disgrace\w*|ridiculous|unacceptable|outrage\w*",
    r"furious|livid|angry|pissed|fuming|infuriat\w*|sick of|fed up|had enough|done with",
    r"useless|incompetent|joke|clowns?|scam\w*|rip-?off|thie(?:f|ves)|liars?|shame(?:ful| on you)|ashamed",
    r"wtf|ffs|smh|fml|bs|bullshit|crap|shit\w*|fuck\w*|damn",
    r"thanks for nothing|are you kidding|never again|how hard is it|what a joke",
    "\U0001f621|\U0001f92c|\U0001f620|\U0001f624|\U0001f595|\U0001f44e",
)
_CHURN = _any(
    r"never (?:\w+ing )?(?:with |from )?(?:them |you |this \w+ )?again",
    r"(?:cancell?ing|cancel|closing|close|terminat\w+|end(?:ing)?) (?:my|our|the) (?:contract|"
    r"subscription|account|plan|membership|service|policy)",
    r"(?:switching|moving|going|switch|move) (?:over )?to (?:a |an )?(?:another|different|new|"
    r"competitor|rival)(?: \w+)?",
    r"switching (?:to|providers|banks|carriers|airlines)|port(?:ing)? my number",
    r"(?:taking|take|moving|move) (?:my|our) (?:business|money|custom|accounts?)(?: elsewhere)?",
    r"(?:i'?m|im|i am|we'?re|we are) (?:so |really |absolutely )?done with",
    r"(?:last time i|won'?t be) (?:\w+ing|back|using|ordering|flying|buying|shopping|renewing)",
    r"never (?:buying|flying|ordering|shopping|using|booking|banking|renewing) (?:with|from|at|again)",
    r"unsubscrib\w*|leaving (?:you|for)|find (?:a|another) (?:bank|provider|carrier|airline)",
)
_REVIEW = _any(
    r"\d(?:\.\d)?/(?:5|10)|\d(?:\.\d)? (?:out of )?(?:5 )?stars?|one star|five stars?",
    r"would(?:n'?t| not)? recommend|highly recommend|do not buy|don'?t buy|must buy|worth (?:the|every)",
    r"pros:|cons:|verdict|update:|verified purchase|after (?:\d+|a few|two|three) (?:days|weeks|months) of use",
)
_SHOUT = re.compile(r"(?<![\w])[A-Z]{3,}(?![\w])|!{2,}|\?{2,}|[?!]{3,}")


@dataclass(frozen=True)
class Intent:
    """Flags the alert rules read; `labels` names the ones that are true."""

    needs_help: bool
    question: bool
    problem_report: bool
    angry: bool
    churn_threat: bool
    review: bool

    @property
    def labels(self) -> list[str]:
        return [field.name for field in fields(self) if getattr(self, field.name)]


def detect_intent(text: str, sentiment: Sentiment | None = None, *, is_review: bool = False) -> Intent:
    """Intent flags for one post; `sentiment`, when given, sharpens `angry`.

    `is_review` is the platform's word that this is a review (a store or app
    review); without it, review-style wording ("5 stars", "pros:") decides.
    """
    text = text[:MAX_CHARS] if isinstance(text, str) else str(text)[:MAX_CHARS]
    question = bool(_QUESTION.search(text))
    problem = bool(_PROBLEM.search(text))
    help_asked = bool(_HELP.search(text))
    shouting = len(_SHOUT.findall(text)) >= 1
    negative = sentiment is not None and sentiment.label == NEGATIVE
    angry = bool(_ANGRY.search(text)) and (sentiment is None or negative)
    if sentiment is not None and sentiment.compound <= ANGRY_COMPOUND and shouting:
        angry = True
    return Intent(
        # A question about a problem is a request for help even without "help".
        needs_help=help_asked or (problem and question),
        question=question,
        problem_report=problem,
        angry=angry,
        churn_threat=bool(_CHURN.search(text)),
        review=is_review or bool(_REVIEW.search(text)),
    )
