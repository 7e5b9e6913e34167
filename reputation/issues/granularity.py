"""How fine issues are, read from a brand's own complaints instead of one threshold for every data set.

One-line bank queries sit close to their neighbours (banking77: half of them have two neighbours above
0.85 cosine with MiniLM); tweets name several things and sit further apart (airline support tweets:
0.52). A threshold tuned on the first splits the second into singletons and pairs. So the join
similarity is the level at which most complaints already have MIN_GROUP - 1 neighbours: the
NEIGHBOUR_QUANTILE quantile of each complaint's similarity to its (MIN_GROUP - 1)th nearest neighbour.
At that level most complaints can form a group of MIN_GROUP with their closest neighbours, and the
average linkage still keeps groups apart whose members are not close on average.

Chosen on banking77, the CFPB complaints and the tuning halves of the airline sets (`python -m
evals.topics_eval --split`); their held-out halves are the check. The 15th percentile, used before, put more
tweets in groups of 3+ but mixed more of them: the 20th costs the airline support tweets 2 points in groups
of 3+ (0.91 -> 0.89) for NMI 0.425 -> 0.437 (held-out half 0.483 -> 0.504) and issue names that name the tag
0.31 -> 0.35 (held-out half 0.26 -> 0.37); banking77's NMI 0.823 -> 0.807. Past the 20th, groups of 3+ fell
faster than NMI rose. At this grain, replies that mention a second problem would leave their thread's issue
(the demo's swollen-battery thread); `IssueClusterer._follow_threads` keeps them in it.

A brand's level is chosen once, from its first sample of SAMPLE_MIN or more complaints, and kept, so that
issues do not change grain from one cycle to the next.
"""

from __future__ import annotations

import numpy as np

from reputation.text.embeddings import Matrix

MIN_GROUP = 3  # an issue is a group of at least this many complaints; fewer wait in the unsorted pool
NEIGHBOUR_QUANTILE = 0.2
SAMPLE_MIN = 30
SAMPLE_MAX = 2000  # the neighbour search is quadratic; a sample this size settles the quantile
# A reply joins its thread's issue, and a complaint a CX lead's known issue, within this much below the join level.
ATTACH_MARGIN = 0.1
# Complaints still alone after a cycle (one or two alike) join the closest issue within STRAGGLER_MARGIN below
# the join level on closeness alone, or within SHARED_THING_MARGIN when they name a thing that a good share
# of the posts name (`IssueClusterer._may_attach`): a complaint near an issue is better counted with
# it than left unsorted, but one that only sounds like it made the mixed groups no label can name. One margin
# of 0.1 for every straggler, used before, mixed more and kept fewer in groups. Over 14 random 70% subsets of
# the airline tweets (`python -m evals.topics_eval --resample 14`), the issues whose label names their gold
# topic went from 0.37 to 0.43 (higher or level on 13 of 14 subsets; without OTHER 0.53 to 0.54, mixed),
# groups of 3+ 0.89 -> 0.87 (0.88 level), NMI level (0.46, 0.53); banking77's groups of 3+ 0.91 -> 0.95,
# CFPB's names 0.30 -> 0.34, the complaint reasons' 0.22 -> 0.25. A brand's domain word ("flight") counts as
# a shared thing: leaving it out cost 2 points in groups of 3+ (0.87 -> 0.85, 0.88 -> 0.86 over the same
# subsets) and named no more groups (0.43 -> 0.42, 0.54 level).
STRAGGLER_MARGIN = 0.05
SHARED_THING_MARGIN = 0.15
# Topics group issues whose members are this much less alike than an issue's (average linkage again).
# 0.05 left topics barely coarser than issues (51 topics for 64 issues in 384 single-topic airline tweets,
# 13 tags); at 0.1 there are 36, named by the broader thing ("delay", "bag"), and an issue shown as "topic >
# issue" names its gold topic more often on every tuning set (`python -m evals.topics_eval --split`: banking77
# 0.74 -> 0.77, CFPB 0.26 -> 0.31, airline tweets' tuning half 0.32 -> 0.38, complaint reasons' 0.19 -> 0.24),
# for a lower topic NMI (single-topic tuning half 0.510 -> 0.447). 0.15 gave fewer topics still, at
# a topic NMI of 0.34.
TOPIC_MARGIN = 0.1
# Only measured for MiniLM; other embedders keep their fixed threshold.
ADAPTIVE_EMBEDDERS = frozenset({"all-minilm-l6-v2"})
_BOUNDS = (0.3, 0.85)


def choose_join(vectors: Matrix) -> float | None:
    """The join similarity for these unit vectors, or None when they are too few to say."""
    if len(vectors) < SAMPLE_MIN:
        return None
    sample = vectors[:SAMPLE_MAX]
    similarities = sample @ sample.T
    np.fill_diagonal(similarities, -np.inf)
    neighbour = np.sort(similarities, axis=1)[:, -(MIN_GROUP - 1)]
    level = float(np.quantile(neighbour, NEIGHBOUR_QUANTILE))
    return round(min(max(level, _BOUNDS[0]), _BOUNDS[1]), 3)
