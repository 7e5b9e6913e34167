"""A synthetic scenario of customer threads with a fictional brand's support handle, with its truth.

Written by the project (the responses branch), not by an outside party: its
phrasings were written before the detector was scored on it and were not
changed after, but the same person wrote both, so the figures it gives are an
optimistic bound. Nothing here is real data.

Brand "Northwind", support handle @NorthwindCares on X, reviews on Trustpilot
with the company's public reply. Each thread: a customer's post (a complaint
or a question), sometimes giving an order number, a DM, photos, the receipt,
calls or emails; sometimes a follow-up, a bystander, then either no answer or
an answer after 1 minute to 10 hours: a template (6 of them, with names, order
numbers and small edits filled in) or a reply written for that thread alone.
The reply may ask for things; the truth records which of them the customer had
already given. Some customers answer back, better or worse.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BRAND = "Northwind"
HANDLE = "NorthwindCares"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

PROBLEMS = [
    "my Northwind blender arrived with a cracked jug",
    "Northwind charged me twice for the same order",
    "the Northwind kettle I bought stopped heating after a week",
    "my Northwind delivery was marked delivered but nothing came",
    "still waiting on my Northwind refund, it's been three weeks",
    "the Northwind app keeps logging me out at checkout",
    "Northwind sent me the wrong colour sofa cover",
    "my Northwind coffee machine leaks all over the counter",
    "Northwind cancelled my order without telling me",
    "the Northwind vacuum battery dies after 5 minutes",
    "Northwind promised next-day delivery, it's day four",
    "my Northwind gift card shows a zero balance",
]
QUESTIONS = [
    "does Northwind price match other stores?",
    "can I change the delivery slot on a Northwind order?",
    "is the Northwind toaster dishwasher safe?",
    "do Northwind stores take returns without the box?",
]
# Ways a customer shows she already gave something; kinds as reputation.replies.asked_again names them.
GAVE = {
    "order number": [
        "Order #48213377.",
        "order no. NW-552190",
        "my order number is 7731229",
        "ref NW88123X, placed on the 3rd",
        "Order NW-20931 if that helps",
    ],
    "a DM": [
        "I already DM'd you.",
        "sent you a DM yesterday with everything",
        "check your DMs, it's all there",
        "I messaged you twice already",
    ],
    "a photo": [
        "photos attached.",
        "here's a picture of the box",
        "I posted pics of the damage above",
    ],
    "the receipt": [
        "I have the receipt.",
        "receipt attached",
        "I kept my receipt and the packaging",
    ],
    "a call": [
        "I've called three times.",
        "spent an hour on hold yesterday",
        "already phoned your helpline twice",
    ],
    "an email": [
        "I emailed support twice.",
        "sent you an email on Monday, nothing back",
    ],
}
NAMES = ["Sam", "Priya", "Jo", "Marcus", "Aisha", "Tom", "Lena", "Raj", "Chloe", "Ben", "Ines", "Kofi"]


@dataclass(frozen=True)
class Template:
    text: str  # {name} filled per use
    asks: tuple[str, ...]


TEMPLATES = [
    Template(
        "Hi {name}, we're sorry to hear this. Please send us a DM with your order number and we'll look into it"
        " for you. ^NC",
        ("a DM", "order number"),
    ),
    Template(
        "Hey {name}, thanks for reaching out and sorry for the trouble! Could you send us a photo of the damage"
        " by DM so we can arrange a replacement? ^NC",
        ("a photo", "a DM"),
    ),
    Template(
        "Sorry about the wait {name}. Refunds can take up to 10 working days to reach your bank once processed."
        " If it's been longer than that, please DM us your order details. ^NC",
        ("a DM", "order number"),
    ),
    Template(
        "Hi {name}, we understand how frustrating this is. Our team can sort this quickly over the phone: please"
        " give us a call on 0800 123 456, 8am to 8pm. ^NC",
        ("a call",),
    ),
    Template(
        "Thanks for letting us know, {name}. We've passed this on to the right team and they'll be in touch by"
        " email within 48 hours. ^NC",
        (),
    ),
    Template(
        "Hi {name}, sorry this happened! To get this moving, can you share a copy of your receipt with us in a"
        " DM? We'll take it from there. ^NC",
        ("the receipt", "a DM"),
    ),
]
# Small edits agents make to a template: a sentence added, a word swapped.
EDITS = [
    lambda t: t,
    lambda t: t.replace("sorry", "so sorry", 1),
    lambda t: t.replace(" ^NC", " Have a good evening. ^NC"),
    lambda t: t.replace("Hi ", "Hello ", 1),
    lambda t: t.replace("we'll", "we will", 1),
]
# Written once each, for one thread: (text, what it asks for).
PERSONAL = [
    ("That's not the experience we want for you. I've found your blender order and a new jug ships today.", ()),
    ("Ouch, a double charge right before payday is the worst. The duplicate was reversed this morning.", ()),
    ("Kettles should last years, not a week. Bring it to any store and they'll swap it on the spot.", ()),
    ("I've opened a trace with the courier; their driver's GPS shows the wrong street, we're on it.", ()),
    ("Your refund was stuck in a failed batch. It's been re-sent and should land by Thursday.", ()),
    ("Our app team pushed a fix for the checkout logout last night; an update to 4.2.1 should sort it.", ()),
    ("Wrong colour, right size? We'll courier the grey one tomorrow and collect the other then.", ()),
    ("A leaking machine is a safety worry. Please stop using it; a technician can visit this week.", ()),
    ("The cancellation came from a stock error on our side. I've reinstated it at the original price.", ()),
    ("Batteries on that model have a two-year warranty. A replacement pack is on its way to you.", ()),
    ("Day four is unacceptable. I've upgraded the shipment to a named-day courier for tomorrow.", ()),
    ("Gift card balances moved to a new system on Monday; yours shows correctly again now.", ()),
    ("We do match prices from major UK retailers, as long as the item is identical and in stock.", ()),
    ("Slots can be changed up to 24 hours before delivery from the Orders page in your account.", ()),
    ("The toaster's crumb tray is dishwasher safe; the body needs a damp cloth only.", ()),
    ("Stores accept returns without the box within 30 days if you bring proof of purchase.", ("the receipt",)),
    ("Could you tell us which store you visited? I'd like the manager to call you personally.", ()),
    ("I'm Dana from the escalations desk; I'll own this until it's fixed, expect my email today.", ()),
    ("Two weeks is far too long to wait for a reply. I've escalated it and added a goodwill credit.", ()),
    ("What you describe sounds like the thermostat. Do you still have the photos of the display?", ("a photo",)),
    ("That model had a known seal fault in March batches; we'll replace it, no questions asked.", ()),
    ("I've checked with the depot: the parcel is there and goes out first thing tomorrow.", ()),
    ("You shouldn't have to chase us. I've refunded the delivery fee and flagged the order.", ()),
    ("Apologies for the run-around. Which email address did you use at checkout? I'll look it up.", ()),
    ("Our warehouse mislabelled a batch of sofa covers; yours is in the reshipment list already.", ()),
    ("I read your thread back and you're right, we dropped the ball twice. A manager will ring you.", ()),
    ("The courier has confirmed a redelivery for Saturday morning between 8 and 12.", ()),
    ("Can you confirm the postcode on the order so I can check the courier's route?", ()),
    ("Good catch on the price: the offer ended at midnight but I've honoured it for you.", ()),
    ("I'm sorry nobody called back. I've booked a callback for 3pm today from our senior team.", ()),
]
BETTER = ["thanks, that was quick!", "ok great, appreciate it", "brilliant, sorted. thank you"]
WORSE = [
    "I literally already gave you all of that. useless.",
    "this is the third time I'm told to DM. nothing happens. awful service",
    "a copy-paste reply. wow. never shopping here again",
]
FOLLOW_UPS = ["hello?? anyone?", "still nothing. this is ridiculous", "day two, no reply from @NorthwindCares"]
BYSTANDERS = ["same thing happened to me last month", "ugh, good luck with that", "@NorthwindCares sort this out"]


@dataclass
class Truth:
    thread: str
    answered: bool
    first_response_seconds: int | None
    responder: str | None
    canned: bool
    asked_again: bool
    outcome: str
    given: list[str] = field(default_factory=list)
    template: str | None = None  # which template answered it, if one did


def _x(
    native_id: int,
    handle: str,
    text: str,
    at: datetime,
    kind: str = "post",
    parent: int | None = None,
    root: int | None = None,
    followers: int = 100,
) -> dict[str, Any]:
    return {
        "platform": "x",
        "native_id": str(native_id),
        "kind": kind,
        "url": f"https://x.com/{handle}/status/{native_id}",
        "text": text,
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "author": {"id": f"u-{handle.lower()}", "handle": handle, "followers": followers},
        "parent_id": str(parent) if parent is not None else None,
        "root_id": str(root) if root is not None else None,
        "brand": BRAND,
    }


SWAPS = ["kettle", "blender", "parcel", "refund", "sofa", "today", "tomorrow", "quickly", "team", "store", "really"]


def _swap_words(rng: random.Random, text: str, count: int) -> str:
    """An agent's heavier edit: `count` words of the template replaced."""
    words = text.split()
    for _ in range(count):
        words[rng.randrange(1, len(words))] = rng.choice(SWAPS)
    return " ".join(words)


def scenario(seed: int = 19, threads: int = 150, swaps: int = 0) -> tuple[list[dict[str, Any]], dict[str, Truth]]:
    """Mentions (replay JSON lines, in time order) and the truth per thread key.

    `swaps`: up to this many words of each templated reply replaced at random (0: names and small edits only).
    """
    rng = random.Random(seed)
    lines: list[dict[str, Any]] = []
    truths: dict[str, Truth] = {}
    personal = list(PERSONAL)
    rng.shuffle(personal)
    next_id = 9_000_000
    for index in range(threads):
        opened = START + timedelta(minutes=23 * index + rng.randint(0, 20))
        customer = f"cust{index:03d}_{rng.choice(NAMES).lower()}"
        name = customer.split("_")[1].title()
        if index % 10 == 9:  # a review on Trustpilot, perhaps with the company's public reply
            truths.update(_review(rng, lines, index, customer, name, opened))
            continue
        gave = rng.sample(list(GAVE), k=rng.choice([0, 1, 1, 2]))
        question = rng.random() < 0.15
        body = rng.choice(QUESTIONS) if question else rng.choice(PROBLEMS)
        parts = [f"@{HANDLE} {body}"] + [rng.choice(GAVE[kind]) for kind in gave]
        root = next_id = next_id + 1
        lines.append(_x(root, customer, " ".join(parts), opened))
        truth = Truth(f"x:{root}", False, None, None, False, False, "unknown", sorted(gave))
        truths[truth.thread] = truth
        last, at = root, opened
        if rng.random() < 0.25:  # a bystander chimes in under the customer's post
            next_id += 1
            lines.append(
                _x(next_id, f"by{index:03d}", rng.choice(BYSTANDERS), at + timedelta(minutes=3), "reply", root, root)
            )
        if rng.random() < 0.3:  # she follows up before anyone answers
            next_id += 1
            at = at + timedelta(minutes=rng.randint(20, 90))
            lines.append(_x(next_id, customer, rng.choice(FOLLOW_UPS), at, "reply", last, root))
            last = next_id
        if rng.random() < 0.22:
            continue  # never answered
        delay = timedelta(seconds=rng.randint(60, 10 * 3600))
        reply_at = max(at + timedelta(minutes=1), opened + delay)
        if personal and rng.random() < 0.4:
            text, asks = personal.pop()
            text = f"@{customer} {text} ^NC"
            canned = False
        else:
            template = TEMPLATES[rng.randrange(len(TEMPLATES))]
            text = f"@{customer} " + rng.choice(EDITS)(template.text.format(name=name))
            if swaps:
                text = _swap_words(rng, text, rng.randint(1, swaps))
            asks, canned = template.asks, True
            truth.template = f"x{TEMPLATES.index(template)}"
        next_id += 1
        reply = next_id
        lines.append(_x(reply, HANDLE, text, reply_at, "reply", last, root, followers=20000))
        truth.answered, truth.responder = True, f"x:{HANDLE}"
        truth.first_response_seconds = int((reply_at - opened).total_seconds())
        truth.canned = canned
        truth.asked_again = bool(set(asks) & set(gave))
        roll = rng.random()
        if roll < 0.6:
            follow = rng.choice(BETTER) if roll < 0.3 else rng.choice(WORSE)
            truth.outcome = "better" if roll < 0.3 else "worse"
            next_id += 1
            lines.append(
                _x(
                    next_id,
                    customer,
                    f"@{HANDLE} {follow}",
                    reply_at + timedelta(minutes=rng.randint(2, 60)),
                    "reply",
                    reply,
                    root,
                )
            )
    # A template used in one thread only is not canned: the truth follows actual use.
    uses = Counter(truth.template for truth in truths.values() if truth.template)
    for truth in truths.values():
        truth.canned = truth.template is not None and uses[truth.template] >= 2
    lines.sort(key=lambda line: (line["created_at"], line["native_id"]))
    return lines, truths


def _review(
    rng: random.Random, lines: list[dict[str, Any]], index: int, customer: str, name: str, opened: datetime
) -> dict[str, Truth]:
    native = f"tp{index:04d}"
    body = rng.choice(PROBLEMS).replace("my Northwind", "My Northwind")
    line: dict[str, Any] = {
        "platform": "trustpilot",
        "native_id": native,
        "kind": "review",
        "url": f"https://www.trustpilot.com/reviews/{native}",
        "text": f"Disappointed. {body}. Two stars for the nice staff.",
        "created_at": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "author": {"id": f"tp-{customer}", "handle": name},
        "rating": 2.0,
        "brand": BRAND,
        "raw": {},
    }
    truth = Truth(f"trustpilot:{native}", False, None, None, False, False, "unknown")
    if rng.random() < 0.7:
        replied = opened + timedelta(seconds=rng.randint(3600, 3 * 86400))
        line["raw"]["owner_reply"] = {
            "text": f"Hi {name}, thank you for your feedback. We're sorry to hear about your experience and have"
            " shared it with our team. Please contact us at help@northwind.example so we can put this right.",
            "replied_at": replied.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        truth.answered, truth.responder = True, "trustpilot:owner_reply"
        truth.first_response_seconds = int((replied - opened).total_seconds())
        truth.template = "trustpilot"  # the same public reply on every answered review
    lines.append(line)
    return {truth.thread: truth}
