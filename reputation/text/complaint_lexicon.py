"""The complaint-domain tables that `reputation.text.sentiment` adds to VADER.

Valences are on VADER's -4..4 scale. Phrase patterns are case-insensitive regex
fragments without capturing groups; the sentiment module joins each table into
one alternation, matched at word boundaries, earlier entries winning. They were
written from how customers complain and checked against the dev split of
tests/data/complaints_labeled.csv only (never the heldout split).
"""

from __future__ import annotations

_NUM = r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|few|several|many)"
_ORDINAL = r"(?:second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|\d+th|nth)"
_NOT = (
    r"(?:won'?t|wont|doesn'?t|doesnt|does not|will not|didn'?t|didnt|did not|isn'?t|isnt"
    r"|is not|not|no longer|can'?t|cant|cannot|never|stopped|keeps? failing to|fails? to)"
)
_THINGS = r"(?:package|parcel|order|delivery|refund|money|deposit|replacement|card|item|bag|luggage)"

# Single words VADER lacks or weighs for another domain.
WORDS: dict[str, float] = {
    "bricked": -2.5,
    "crashed": -1.8,
    "crashes": -1.8,
    "crashing": -1.8,
    "leaks": -1.5,
    "leaking": -1.5,
    "melted": -1.5,
    "flickering": -1.2,
    "overheating": -1.6,
    "glitchy": -1.6,
    "glitch": -1.2,
    "glitches": -1.2,
    "throttled": -1.5,
    "throttles": -1.5,
    "throttling": -1.5,
    "laggy": -1.5,
    "cracked": -1.3,
    "smashed": -1.5,
    "scratched": -1.0,
    "stranded": -2.0,
    "bumped": -1.0,
    "overbooked": -1.5,
    "overcharged": -2.2,
    "overcharging": -2.2,
    "overbilled": -2.2,
    "spoiled": -1.2,
    "overdrawn": -1.5,
    "outage": -2.0,
    "outages": -2.0,
    "unreachable": -1.5,
    "unresponsive": -1.8,
    "unusable": -2.2,
    "shrugged": -1.0,
    "cloned": -1.5,
    "scammed": -2.8,
    "ripoff": -2.5,
    "rip-off": -2.5,
    "predatory": -2.5,
    "gouging": -2.2,
    "disconnected": -1.2,
    "delayed": -1.5,
    "cancelling": -1.5,
    "canceling": -1.5,
    "mis-sold": -2.0,
    "missold": -2.0,
    "upsell": -0.8,
    "runaround": -2.0,
    "ghosted": -2.0,
    "sketchy": -1.5,
    "refunded": 1.2,
    "waived": 1.5,
    "sorted": 1.2,
    "legend": 2.0,
    "props": 1.5,
    "shoutout": 1.8,
    "convenient": 1.5,
    "stellar": 2.5,
    "reliable": 1.8,
    "seamless": 1.8,
    "effortless": 1.5,
    "hassle": -1.2,
    "zqxquote": -1.0,
}
# Scare-quoted praise ("the 'express' delivery") reads as irony.
SCARE_QUOTE_TOKEN = "zqxquote"

# Words whose VADER valence belongs to another sense than the customer-care one:
# "promised" (a promise broken, here), "interest" and "credit" (banking terms),
# "support" (a department, or a verb: "does it support USB-C?").
NEUTRALISED_WORDS: tuple[str, ...] = (
    "promised",
    "interest",
    "credit",
    "support",
    # Pager-code slang ("143" = I love you, "187" = murder) is an order, flight or
    # street number in a customer's post.
    "86",
    "143",
    "182",
    "187",
    "1337",
    "1432",
)

# Multi-word cues of a failed experience; the first match at a position wins.
COMPLAINT_PHRASES: list[tuple[str, float]] = [
    # Sarcasm and irony: praise words used for a failure.
    (r"thanks? (?:you )?for nothing", -2.5),
    (r"so much for", -2.0),
    (r"(?:oh|just) (?:great|wonderful|fantastic|brilliant|perfect|lovely|awesome|marvellous)", -1.8),
    (r"(?:great|wonderful|fantastic|brilliant|perfect|awesome|nice|lovely)[,.!]* (?:yet )?another", -1.8),
    (r"love (?:that|this) for me", -1.8),
    (r"yeah,? right", -1.5),
    (r"(?:you(?: guys)? are|you'?re|what|is|an?|absolute|total) (?:an? )?(?:joke|clowns?|circus)", -2.5),
    (r"are you (?:kidding|joking|serious)(?: me)?", -2.0),
    # Churn threats.
    (r"never (?:\w+ing )?(?:with |from )?(?:them |you |this \w+ )?again", -2.5),
    (
        r"(?:cancell?ing|cancel|closing|close) (?:my|our|the) (?:contract|subscription|account|plan|"
        r"membership|service)",
        -2.0,
    ),
    (r"(?:taking|moving|move|take) (?:my|our) (?:business|money|custom|accounts?)(?: elsewhere)?", -2.0),
    (
        r"(?:i'?m|im|i am|we'?re|we are) (?:so |really |absolutely |completely )?(?:done|over it|"
        r"fed up|sick of|tired of)",
        -2.2,
    ),
    (r"(?:sick and tired|fed up)", -2.2),
    (r"(?:last time i|won'?t be) (?:\w+ing|flying|ordering|buying|shopping|back|using)", -2.0),
    (r"switching to", -0.8),
    # Nobody answers.
    (
        r"no (?:response|reply|replies|answer|updates?|call ?back|callback|explanation|apology|"
        r"heads up|notice|warning|solution|resolution)",
        -1.8,
    ),
    (
        r"(?:nobody|no one|no-one) (?:\w+ )?(?:answers|answered|picks up|picked up|called|calls|came|"
        r"cares|knows|helps|responds|responded|replied|showed)",
        -1.8,
    ),
    (
        r"(?:never|didn'?t|did not|haven'?t|have not|hasn'?t|has not) (?:heard back|got back|"
        r"gotten back|called (?:me )?back|responded|replied|answered|showed up)",
        -2.0,
    ),
    (
        r"(?:never|didn'?t|did not|haven'?t|have not|hasn'?t|has not|still not) (?:arrived|came|"
        r"turned up|been delivered|shipped)",
        -2.0,
    ),
    (
        r"(?:never|didn'?t|did not|haven'?t|have not|hasn'?t|has not) (?:got|gotten|received|"
        r"get) (?:my|the|a|an|any) (?:\w+ )?(?:"
        + _THINGS[3:-1]
        + r"|response|reply|answer|call ?back|confirmation|email)",
        -2.0,
    ),
    (_NOT + r" (?:answer|address|solve|fix|help|explain|care|understand|listen)\w*", -1.8),
    (r"without (?:any )?(?:notice|warning|explanation|telling (?:me|us)|asking)", -1.8),
    (r"not even (?:an? |one )?(?:single )?(?:sorry|apology|reply|response|call|email|update|word)", -1.8),
    (r"(?:hung|hangs|hanging) up(?: on me)?", -1.8),
    (r"(?:line|call) (?:went|goes) dead", -1.8),
    (r"zero (?:updates|response|help|communication|info\w*|support)", -1.8),
    (r"(?:canned|copy[- ]?paste[d]?) (?:replies|responses|response|reply|answers?)", -1.5),
    (r"(?:transferred|passed) (?:me )?(?:around|again|\d+ times)", -1.5),
    (r"ignor(?:ed|ing) (?:me|my|us|our)", -2.0),
    (r"(?:i need|we need|need) (?:a|to speak to a|to talk to a) (?:human|real person|manager)", -1.2),
    # Waiting, repetition, persistence.
    (
        r"still (?:waiting|no|not|nothing|hasn'?t|haven'?t|isn'?t|doesn'?t|won'?t|can'?t|broken|down|"
        r"open|pending|stuck|missing|crash\w*|fail\w*|'?invalid)",
        -2.0,
    ),
    (r"(?:kept|keeps|keep|left|put) (?:me |us )?(?:on hold|waiting)", -2.0),
    (r"hold music", -1.0),
    (r"on hold", -1.2),
    (
        r"waiting (?:for|on) (?:my|a|the|an) (?:\w+ )?(?:refund|reply|response|call|callback|engineer|"
        r"technician|replacement|delivery|package|parcel|order|answer)",
        -1.5,
    ),
    (_ORDINAL + r" (?:call|time|email|ticket|attempt|complaint|replacement|missed delivery|month|week|one)", -1.5),
    (r"(?:in a row|again and again|over and over|every single time)", -1.2),
    (r"same (?:issue|problem|defect|fault|thing) again", -1.8),
    (r"same (?:issue|problem|defect|fault)", -1.2),
    (
        r"(?:delayed|late|down|broken|cancell?ed|lost|crash\w*|fail\w*|wrong|missing|overcharged|"
        r"charged|smashed) again",
        -1.5,
    ),
    # Money.
    (r"(?:charged|billed) (?:me )?(?:twice|double|two times|2x|three times|again)", -2.2),
    (r"double[- ]?(?:charged|billed|booked)", -2.2),
    (r"(?:hidden|extra|surprise|junk|ridiculous|outrageous) (?:fees?|charges?)", -1.8),
    (r"(?:late|restocking|cancellation|change|maintenance|bag|seat|admin|overdraft|roaming) (?:fees?|charges?)", -1.0),
    (r"(?:where(?: is|'s)|still no|no sign of|never got|never received) (?:my|the|a|any) " + _THINGS, -2.2),
    (r"refus\w* to (?:refund|help|replace|honou?r|fix)", -2.0),
    (r"(?:want|need) (?:my|a|the) (?:\w+ )?(?:money|fee|refund|deposit) back", -1.5),
    (
        r"(?:raised|increased|hiked|doubled|doubling|raising|increasing) (?:my|the|our) (?:bill|price|"
        r"rate|plan|premium|fees?)",
        -1.8,
    ),
    (r"price (?:increase|hike|rise)", -1.5),
    (r"(?:waste|wasted|wasting) (?:of )?(?:my |our |another |a )?(?:time|money|day|week|morning|afternoon)", -2.2),
    (r"for nothing", -1.2),
    # Broken products and services.
    (
        _NOT + r" (?:turn(?:ing|s)? on|work(?:ing|s)?|charg(?:e|es|ing)(?! (?:me|you|us|an?|any|the|for|"
        r"fees?|extra|\$))|load(?:ing|s)?|connect(?:ing|s)?|boot(?:ing|s)?|heat(?:ing|s)?|clos(?:e|es|"
        r"ing)|reclin(?:e|es|ing)|respond(?:ing|s)?|sync(?:ing|s)?|pair(?:ing|s)?|start(?:ing|s)?|"
        r"print(?:ing|s)?|log (?:me )?in|let me \w+)",
        -2.0,
    ),
    (
        r"(?:keeps?|kept) (?:crashing|freezing|dropping|disconnecting|restarting|rebooting|buffering|"
        r"failing|glitching|logging (?:me|us) out|looping|cutting out|breaking)",
        -2.0,
    ),
    (r"(?:dead on arrival|doa)", -2.5),
    (r"(?:dead|stuck|broken) (?:pixels?|keys?|on arrival)", -2.0),
    (r"wrong (?:item|order|size|colou?r|address|product|one|package|parcel|account|house)", -1.5),
    (
        r"(?:arrived|came|showed up|was delivered|got delivered) (?:\w+ )?(?:damaged|broken|cracked|"
        r"smashed|open|opened|used|wet|soaked|crushed|dented|in pieces|scratched|late|defective|"
        r"faulty)",
        -2.0,
    ),
    (r"in pieces", -1.5),
    (r"(?:arrived|came|delivered|showed up|turned up) (?:\w+ ){0,2}(?:late|after|too late)", -1.8),
    (
        r"(?:lost|losing|loses) (?:all )?(?:suction|power|signal|connection|data|photos|files|"
        r"progress|charge|contacts)",
        -1.8,
    ),
    (r"not (?:ok|okay|acceptable|good enough|fine)", -1.8),
    (
        r"(?:website|site|app|server|servers|system|network|internet|wifi|wi-fi|service|portal|"
        r"checkout(?: page)?) (?:is |was |has been |went |goes |keeps going |have been )?(?:down|"
        r"offline|broken)",
        -1.8,
    ),
    (r"no (?:internet|signal|service|wifi|wi-fi|power|connection|hot water|heating|coverage|dial tone|staff)", -1.8),
    (r"(?:drops|dropping|dropped) (?:out|every|constantly|all the time|calls?)", -1.5),
    (
        r"(?:lost|losing|misplaced) (?:my|our|the|another) (?:\w+ )?(?:bag|bags|luggage|suitcase|"
        r"package|parcel|order|documents|card|passport|camera|stroller)",
        -2.0,
    ),
    (r"lost in transit", -1.8),
    (r"marked (?:as )?delivered", -1.2),
    (r"(?:missing|missed) (?:\d+ |two |an? |some )?(?:items?|delivery|deliveries|parts?|pieces?)", -1.5),
    (r"(?:sat|stuck|waited|stranded) on the (?:tarmac|runway|plane)", -1.8),
    (r"cancell?ed (?:my|our|the) (?:flight|order|booking|account|reservation|appointment)", -1.8),
    (r"(?:false|misleading) advertising", -2.0),
    (r"(?:fix|sort out|sort) (?:your|this|it) ?(?:\w+)?\.", -1.0),
    (r"do better", -1.5),
    (r"get (?:it|your act) together", -1.8),
    (r"(?:couldn'?t|could not|can'?t|cannot) (?:be|get) (?:any )?worse", -2.8),
]

# Praise and resolution cues VADER reads as neutral or, negated, as negative.
PRAISE_PHRASES: list[tuple[str, float]] = [
    (
        r"(?:couldn'?t|could not|can'?t|cannot) (?:be|have been) (?:any )?(?:happier|better|"
        r"more (?:pleased|satisfied|happy))",
        2.8,
    ),
    (r"(?:can'?t|cannot) (?:recommend|thank|praise) (?:\w+ ){0,3}enough", 2.8),
    (r"never (?:disappoints|lets? (?:me|us) down|fails? me|had (?:a|an|any) (?:problem|issue)s?)", 2.2),
    (r"(?:no|without (?:any )?) (?:issues?|problems?|complaints|fuss|hassle|questions asked|delays?)", 1.5),
    (
        r"(?:fixed|sorted|resolved|solved|sorted out) (?:it|everything|all|my|the|this|in|within|"
        r"quickly|straight)(?: (?:\w+ ){0,2}(?:problems?|issues?))?",
        1.8,
    ),
    (r"(?:all|everything) (?:sorted|fixed|resolved)", 1.8),
    (r"(?:got|received|getting) (?:my|the|a full) (?:refund|money back|replacement)", 1.5),
    (r"refund (?:hit|arrived|came through|landed|was processed|processed)", 1.5),
    (r"waiv(?:ed|ing) (?:the|my|a) (?:\w+ )?fee", 1.8),
    (r"above and beyond", 2.5),
    (r"(?:came|come) through", 1.5),
    (r"(?:hats off|kudos|props|shout ?out|big up) to", 2.0),
    (r"(?:10|ten)/10|(?:5|five) stars?", 2.5),
    (r"top (?:guy|notch|marks|service|man|woman|team)", 2.0),
    (r"(?:arrived|came|delivered|landed|was|were) (?:\w+ )?(?:a day |\d+ days? |\w+ days? )?early", 1.5),
    (r"on time", 0.8),
    (r"(?:fast|quick|speedy|prompt|rapid) (?:delivery|shipping|response|reply|service|turnaround|fix)", 1.8),
    (r"(?:so|much) (?:faster|quicker|easier)", 1.5),
]

# Names of things that carry VADER valence by accident: departments, products,
# banking terms. Rewritten to a neutral token.
DOMAIN_NEUTRAL: list[tuple[str, float]] = [
    (r"nothing but", 0.0),  # "nothing but" is not a negation of what follows
    (r"not only", 0.0),
    (r"(?:customer|tech|technical) (?:care|support|service)", 0.0),
    (r"help ?(?:desk|center|centre|line)", 0.0),
    (r"(?:credit|gift|loyalty) (?:cards?|union|score|limit|check|points|program(?:me)?|scheme)", 0.0),
    (r"interest rates?", 0.0),
    (r"fraud (?:line|team|department|alert|check)", 0.0),
    (r"lost and found", 0.0),
    (r"accidental damage", 0.0),
    (r"(?:would|'d|i'd|we'd) like", 0.0),
    (r"like clockwork", 0.0),
    (r"make sure", 0.0),
    (r"apple pay", 0.0),
]

_CLOSING_PRAISE = (
    r"(?:helpful|cool|great|brilliant|lovely|wonderful|fantastic|perfect|awesome|nice|amazing)(?=[.!]*\s*$)"
)

# In a post that already complains, these are politeness or mockery, not praise.
POLITENESS_IN_COMPLAINT: list[tuple[str, float]] = [
    (r"thank(?:s| you)(?: so much| a lot)?", 0.0),
    (r"(?:please|pls|plz)", 0.0),
    (r"help", 0.0),
    (r"(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*)", 0.0),
    # A lone "helpful." or "very cool." closing a complaint is sarcasm.
    (r"(?:very|so|really|just) " + _CLOSING_PRAISE, -1.2),
    (_CLOSING_PRAISE, -1.2),
]

# Boosters VADER lacks; "super" is even +2.9 on its own in VADER.
INTENSIFIERS = r"\b(?:super|insanely|ridiculously|hella)\s+(?=[a-z])"

# "waited 2 hours", "on hold for 40 minutes", "it's been 11 days", "45 min hold".
# WAIT_HINT is a cheap test that a text names a time unit at all.
WAIT_HINT = r"min|h(?:ou)?rs?\b|day|week|wk|month"
WAIT_DURATION = (
    r"\b(?:(?:waited|waiting|wait of|been on hold|on hold|hold|in (?:the )?queue|in line|took|takes|taking|been|stuck)"
    r"(?: for)?(?: over| almost| nearly| about| more than| like)? (?P<amount>" + _NUM + r")"
    r" ?(?P<unit>min(?:ute)?s?|hours?|hrs?|days?|weeks?|wks?|months?)\b"
    r"|(?P<amount2>\d+) ?(?P<unit2>min(?:ute)?s?|hours?|hrs?) (?:on hold|hold|in (?:the )?queue|wait))"
)
NUMBER_WORDS: dict[str, float] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a few": 3,
    "few": 3,
    "several": 4,
    "many": 6,
}
UNIT_MINUTES: dict[str, float] = {"mi": 1, "ho": 60, "hr": 60, "da": 1440, "we": 10080, "wk": 10080, "mo": 43200}
# (upper bound in minutes, token): a few minutes on hold is service, not a complaint.
WAIT_BUCKETS: list[tuple[float, str]] = [
    (15, "zqxwshort"),
    (60, "zqxwmid"),
    (1440, "zqxwhours"),
    (float("inf"), "zqxwdays"),
]
WAIT_TOKENS: dict[str, float] = {"zqxwmid": -1.5, "zqxwhours": -2.0, "zqxwdays": -2.0}

# A help-seeking question: asks for information rather than venting. "Why ...?"
# is left out on purpose: in complaints it is nearly always rhetorical.
INFO_QUESTION = (
    r"(?:^|[.,!:]\s+)\s*(?:(?:hi|hello|hey)\b[\s,!.]*)?(?:what|what'?s|when|where|which|who|how|"
    r"is there|are there|do you"
    r"|does (?:it|the|this|that|anyone|my)|can (?:i|you|we|someone|anyone)|could (?:i|you|"
    r"someone)|is (?:it|the|this|my)"
    r"|are (?:the|pets|you)|will (?:i|it|the|my)|do i|should i|anyone|anybody|has anyone)\b[^?!]*\?\s*$"
)

# Words (and stems) that make a post a complaint even without a phrase cue.
COMPLAINT_WORDS: frozenset[str] = frozenset(
    "worst terrible awful horrible useless pathetic ridiculous unacceptable broken furious angry"
    " nightmare incompetent rude wtf smh ugh ffs insulting unreal".split()
)
COMPLAINT_STEMS = ("disgust", "disappoint", "scam")

# Emoji VADER reads as neutral descriptions ("pouting face") or misreads.
EMOJI: dict[str, float] = {
    "\U0001f621": -2.5,  # pouting face
    "\U0001f92c": -3.0,  # face with symbols on mouth
    "\U0001f644": -1.5,  # face with rolling eyes
    "\U0001f612": -1.5,  # unamused face
    "\U0001f611": -1.0,  # expressionless face
    "\U0001f44e": -2.0,  # thumbs down
    "\U0001f926": -1.5,  # person facepalming
    "\U0001f624": -2.0,  # face with steam from nose
    "\U0001f643": -1.0,  # upside-down face
    "\U0001f921": -1.5,  # clown face
    "\U0001f4a9": -2.0,  # pile of poo
    "\U0001f602": 0.0,  # face with tears of joy: laughing, often at the company
    "\U0001f923": 0.0,  # rolling on the floor laughing
    "\U0001f44d": 1.5,  # thumbs up
    "\U0001f64c": 2.0,  # raising hands
    "\U0001f64f": 0.8,  # folded hands
}
