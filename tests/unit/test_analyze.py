"""`analyze_file`: streaming JSONL/CSV/TSV in, JSON lines and metrics out."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from reputation.cli.analyze import MAX_ERROR_MESSAGES, PROGRESS_EVERY, analyze_file
from reputation.errors import InputError, ReputationError
from reputation.text.sentiment import SentimentAnalyzer


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_csv_with_labels_reports_metrics_for_both_systems(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        writer.writerow(["a1", "still waiting for my refund, third call this week", "negative"])
        writer.writerow(["a2", "What time do you open on Sunday?", "neu"])
        writer.writerow(["a3", "Couldn't be happier, the crew were lovely", "1"])
    output = tmp_path / "out.jsonl"

    report = analyze_file(source, output=output)

    assert report.rows == 3 and report.error_count == 0 and report.labelled == 3
    assert report.metrics is not None and report.vader_metrics is not None
    assert report.metrics.accuracy == 1.0
    assert report.metrics.confusion == ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    # Plain VADER reads "Couldn't be happier" as negative and the wait as neutral.
    assert report.vader_metrics.accuracy < 1.0
    lines = _lines(output)
    assert [line["id"] for line in lines] == ["a1", "a2", "a3"]
    assert lines[0]["sentiment"]["label"] == "negative"
    assert set(lines[0]["sentiment"]) == {"label", "compound", "confidence"}
    assert "problem_report" in lines[0]["intent"]
    assert lines[1]["intent"] == ["question"]
    assert report.to_dict()["metrics"]["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_jsonl_bad_rows_become_error_lines_and_the_batch_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "mentions.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"text": "never again, worst bank"}),
                "{not json",
                json.dumps({"id": "x", "body": "no text field here"}),
                json.dumps({"text": 42}),
                json.dumps(["a", "list"]),
                json.dumps({"text": "broken \ud800 surrogate \x00 and control"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"

    report = analyze_file(source, output=output)

    lines = _lines(output)
    assert report.rows == len(lines) == 6
    assert report.error_count == 4
    assert [line["id"] for line in lines] == [0, 1, "x", 3, 4, 5]
    assert "sentiment" in lines[0] and "sentiment" in lines[5]
    assert lines[1]["error"].startswith("line 2: not JSON")
    assert lines[2]["error"] == "line 3: missing 'text'"
    assert lines[3]["error"] == "line 4: 'text' is not a string"
    assert lines[4]["error"] == "line 5: not a JSON object"
    assert report.metrics is None and report.vader_metrics is None


def test_headerless_tsv_is_read_as_id_rating_text(tmp_path: Path) -> None:
    # The layout of Hutto & Gilbert's tweets_GroundTruth.txt: CRLF, no header, and
    # a text that starts with a quote mark.
    source = tmp_path / "ground_truth.tsv"
    source.write_bytes(
        b"1\t2.7\tSomehow I was blessed with some really amazing friends.\r\n"
        b'2\t-2.9\t"Worst" day ever, my flight got cancelled\r\n'
        b"3\t0.1\tThe bus leaves at 9\r\n"
    )
    output = tmp_path / "out.jsonl"

    report = analyze_file(source, output=output)

    assert report.rows == 3 and report.error_count == 0 and report.labelled == 3
    assert [line["id"] for line in _lines(output)] == ["1", "2", "3"]
    # The ratings became one truth label each (2.7 positive, -2.9 negative, 0.1 neutral);
    # what the model predicts for them is measured elsewhere, not by a file-layout test.
    assert report.metrics is not None
    assert [sum(row) for row in report.metrics.confusion] == [1, 1, 1]
    assert report.vader_metrics is not None and report.vader_metrics.accuracy == 1.0


def test_tsv_with_a_header_uses_named_columns(tmp_path: Path) -> None:
    source = tmp_path / "posts.tsv"
    source.write_text("post\tbody\np1\tmy laptop died after a week\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    report = analyze_file(source, text_column="body", id_column="post", output=output)
    assert report.rows == 1 and report.labelled == 0
    assert _lines(output)[0]["id"] == "p1"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        analyze_file(tmp_path / "nope.csv")


def test_missing_text_column_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no 'text' column.*body"):
        analyze_file(source)
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text(json.dumps({"body": "hello"}) + "\n", encoding="utf-8")
    with pytest.raises(ReputationError, match="no 'text' field"):
        analyze_file(jsonl)


def test_unsupported_type_and_overwriting_the_input_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "posts.xlsx"
    source.write_text("whatever", encoding="utf-8")
    with pytest.raises(InputError, match="unsupported"):
        analyze_file(source)
    csv_source = tmp_path / "posts.csv"
    csv_source.write_text("text\nhello\n", encoding="utf-8")
    with pytest.raises(InputError, match="overwrite"):
        analyze_file(csv_source, output=csv_source)
    assert csv_source.read_text(encoding="utf-8") == "text\nhello\n"


def test_bad_labels_are_reported_and_left_out_of_metrics(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    source.write_text("text,label\nnever again,negative\nok then,maybe\n", encoding="utf-8")
    report = analyze_file(source)
    assert report.rows == 2 and report.labelled == 1
    assert report.error_count == 1 and "line 3" in report.errors[0]


def test_many_rows_stream_with_capped_errors_and_progress(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    rows = 2 * PROGRESS_EVERY + 37
    with source.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            handle.write((json.dumps({"text": f"order {i} never arrived"}) if i % 2 else "garbage") + "\n")
    output = tmp_path / "out.jsonl"
    steps: list[int] = []

    report = analyze_file(source, output=output, progress=steps.append)

    assert report.rows == rows
    assert sum(steps) == rows and steps[0] == PROGRESS_EVERY
    assert report.error_count == (rows + 1) // 2
    assert len(report.errors) == MAX_ERROR_MESSAGES
    assert len(output.read_text(encoding="utf-8").splitlines()) == rows
    assert report.sentiments == {"negative": rows // 2}


def test_hostile_texts_in_a_csv_are_scored(tmp_path: Path) -> None:
    source = tmp_path / "hostile.csv"
    texts = ["", "\x01\x02\x7f", bytes(range(32, 256)).decode("latin-1"), "¿Dónde está mi pedido? 😡 worst"]
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([text] for text in texts)
    report = analyze_file(source, analyzer=SentimentAnalyzer({"pedido": 0.0}))
    assert report.rows == len(texts) and report.error_count == 0
    assert "negative" in report.sentiments
    assert "rows from" in report.render().plain


def test_each_line_gets_its_issue_and_the_report_an_issue_table(tmp_path: Path) -> None:
    from reputation.text.embeddings import HashingEmbedder

    source = tmp_path / "complaints.jsonl"
    texts = [
        "refund still not received after three weeks",
        "my refund has still not been received",
        "still waiting, refund not received",
        "the app crashes when I log in",
        "app crashes on log in every time",
    ]
    source.write_text("\n".join([*(json.dumps({"text": text}) for text in texts), "{bad"]) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"

    report = analyze_file(source, output=output, embedder=HashingEmbedder())

    lines = _lines(output)
    assert lines[0]["issue_id"] == lines[1]["issue_id"] == lines[2]["issue_id"] != lines[3]["issue_id"]
    assert lines[3]["issue_id"] == lines[4]["issue_id"]
    assert "not received" in lines[0]["issue_label"] and "error" in lines[5] and "issue_id" not in lines[5]
    largest = report.issues[0]
    assert (largest.id, largest.size) == (lines[0]["issue_id"], 3) and largest.examples
    assert 0 <= largest.negative_share <= 1
    assert report.to_dict()["issues"][0]["label"] == largest.label
    assert largest.label in report.render().plain


def test_rows_that_name_a_brand_get_that_brands_issues_and_never_its_name_as_a_label(tmp_path: Path) -> None:
    from reputation.text.embeddings import HashingEmbedder

    source = tmp_path / "mentions.csv"
    complaints = [
        ("Spotify", "Spotify Premium charged me twice this month"),
        ("Spotify", "charged twice for Spotify Premium again"),
        ("Spotify", "Spotify Premium charged twice, refund please"),
        ("Apple", "Apple charged me twice this month for iCloud"),
        ("Apple", "charged twice for iCloud by Apple again"),
        ("Apple", "iCloud charged twice, Apple refund please"),
        ("", "charged twice and nobody answers"),
    ]
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "company", "text"])
        writer.writerows((n, brand, text) for n, (brand, text) in enumerate(complaints))
    output = tmp_path / "out.jsonl"

    report = analyze_file(source, output=output, embedder=HashingEmbedder(), brand_column="company")

    lines = _lines(output)
    assert [line.get("brand") for line in lines] == ["Spotify"] * 3 + ["Apple"] * 3 + [None]
    # The same complaint about two brands is two issues, one per brand.
    assert lines[0]["issue_id"] == lines[1]["issue_id"] == lines[2]["issue_id"]
    assert lines[3]["issue_id"] == lines[4]["issue_id"] == lines[5]["issue_id"] != lines[0]["issue_id"]
    labels = {line["issue_label"] for line in lines[:6]}
    assert not any(name in label for label in labels for name in ("spotify", "apple")), labels
    assert {issue.brand for issue in report.issues} == {"Spotify", "Apple"}
    assert "Spotify: " in report.render().plain and report.to_dict()["issues"][0]["brand"] in ("Spotify", "Apple")


def test_without_a_brand_column_the_handles_the_rows_tag_stand_for_the_brand(tmp_path: Path) -> None:
    from reputation.text.embeddings import HashingEmbedder

    # As in the Twitter US Airline Sentiment tweets: the airline tagged, and its name written out too.
    complaints = [
        "@united United lost my bag again at O'Hare",
        "@united lost bag, United says wait 3 days",
        "@united my bag is lost and United won't answer",
        "@SouthwestAir Southwest cancelled my flight to Denver",
        "@SouthwestAir flight cancelled, Southwest rebooked me tomorrow",
        "@SouthwestAir cancelled flight and Southwest gave no hotel",
    ]
    source = tmp_path / "tweets.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(complaints))
    output = tmp_path / "out.jsonl"

    analyze_file(source, output=output, embedder=HashingEmbedder())

    lines = _lines(output)
    assert lines[0]["issue_id"] == lines[1]["issue_id"] == lines[2]["issue_id"] != lines[3]["issue_id"]
    labels = {line["issue_label"] for line in lines} | {line["topic_label"] for line in lines}
    assert all(labels) and not any(n in str(labels) for n in ("united", "southwest")), labels
    assert any("bag" in label for label in labels) and any("cancel" in label for label in labels), labels


def test_a_brand_column_holding_the_support_handle_leaves_the_brands_name_out_too(tmp_path: Path) -> None:
    from reputation.text.embeddings import HashingEmbedder

    complaints = [
        ("AppleSupport", "my Apple AirPods won't connect, Apple please fix"),
        ("AppleSupport", "Apple AirPods keep disconnecting from my Apple laptop"),
        ("AppleSupport", "AirPods won't connect since the Apple update"),
    ]
    source = tmp_path / "tweets.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "author_id", "text"])
        writer.writerows((n, brand, text) for n, (brand, text) in enumerate(complaints))
    output = tmp_path / "out.jsonl"

    analyze_file(source, output=output, embedder=HashingEmbedder(), brand_column="author_id")

    lines = _lines(output)
    assert lines[0]["issue_id"] is not None and len({line["issue_id"] for line in lines}) == 1
    labels = {lines[0]["issue_label"], lines[0]["topic_label"]}
    assert "airpod" in str(labels) and "apple" not in str(labels).lower(), labels


def test_a_handle_many_rows_tag_is_a_brand_and_a_customer_handle_or_a_number_is_not() -> None:
    from reputation.issues.addressed import addressed_names

    texts = [f"@AmericanAir American lost my bag #{n}" for n in range(5)] + [
        "@jane_doe agreed, bags lost here too",  # one reply to one customer
        "@118967 please help",  # an anonymized customer, tagged often
        "@118967 still waiting",
        "@118967 any news",
    ]
    # The handle, and the words the posts write that it begins with; "america" is nobody's word here.
    assert addressed_names(texts) == {"americanair", "american"}
    # A customer three replies tag among 100 tweets is no brand, nor are the words her handle begins with.
    thread = ["@battery_guy same, battery swelled"] * 3 + [f"@AmericanAir American lost my bag #{n}" for n in range(97)]
    assert addressed_names(thread) == {"americanair", "american"}


def test_a_lines_issue_label_is_the_issue_as_alerts_and_the_digest_name_it() -> None:
    from datetime import UTC, datetime

    from reputation.cli.analyze import _issue_fields
    from reputation.issues import IssueClusterer
    from reputation.issues.clustering import Issue
    from reputation.issues.topics import Topic
    from reputation.text.embeddings import HashingEmbedder

    now = datetime(2026, 12, 4, tzinfo=UTC)
    clusterer = IssueClusterer([], embedder=HashingEmbedder())
    clusterer.topics["top-1"] = Topic("top-1", None, "delay", 9, now, now)
    for issue_id, label in (("iss-1", "missed connection"), ("iss-2", "delay overnight")):
        clusterer.issues[issue_id] = Issue(issue_id, None, label, {}, 4, now, now, topic_id="top-1")
    clusterer.issues["iss-3"] = Issue("iss-3", None, "seat", {}, 2, now, now)  # unsorted: too few alike

    assert _issue_fields(clusterer, "iss-1") == {
        "issue_id": "iss-1",
        "issue_label": "delay > missed connection",
        "topic_id": "top-1",
        "topic_label": "delay",
        "unsorted": False,
    }
    assert _issue_fields(clusterer, "iss-2")["issue_label"] == "delay overnight"  # the name already holds the topic
    assert _issue_fields(clusterer, "iss-3")["issue_label"] is None
