"""Canned replies and requests among real company replies: the public sample of "Customer Support on Twitter".

Run ``python -m evals.twcs_canned PATH`` with PATH the sample.csv of the Kaggle
data set "Customer Support on Twitter" (thoughtvector; CC BY-NC-SA 4.0 as Kaggle lists it), for
example as mirrored in github.com/naman-tiwari/Customer-Support-on-Twitter at
commit 3ea10276ec5c94d7eca2f3bde2c0f41d149048f5. The data is not copied into
this repository (its licence is non-commercial). It has no labels for canned
replies or repeated requests: the script prints what is flagged, per company,
so that a person can read it against the replies.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict

from reputation.replies.asked_again import asked_again, requested
from reputation.replies.canned import Reply, find_templates


def main(path: str) -> None:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {row["tweet_id"]: row for row in rows}
    company = [row for row in rows if row["inbound"] == "False"]
    per_brand: dict[str, list[Reply]] = defaultdict(list)
    for row in company:
        per_brand[row["author_id"]].append(Reply(row["tweet_id"], row["in_response_to_tweet_id"] or "", row["text"]))
    canned = {key: template for replies in per_brand.values() for key, template in find_templates(replies).items()}
    asking = again = 0
    for row in company:
        earlier, parent = [], row["in_response_to_tweet_id"]
        while parent in by_id:
            if by_id[parent]["inbound"] == "True":
                earlier.append(by_id[parent]["text"])
            parent = by_id[parent]["in_response_to_tweet_id"]
        asking += bool(requested(row["text"]))
        if asked_again(row["text"], earlier):
            again += 1
            print(f"asks again ({row['author_id']}): {row['text'][:100]}")
    print(f"{len(rows)} tweets, {len(company)} company replies from {len(per_brand)} companies")
    print(f"canned: {len(canned)}")
    for key, template in canned.items():
        print(f"  {by_id[key]['author_id']} (template sent {template.uses}x): {by_id[key]['text'][:100]}")
    print(f"replies asking for something: {asking}; asking for what the customer had given: {again}")


if __name__ == "__main__":
    main(sys.argv[1])
