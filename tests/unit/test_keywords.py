import re

import pytest

from reputation.keywords import BrandMatcher, RuleSyntaxError, compile_rule, subject_terms


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("refund", "Where is my REFUND?", True),
        ("refund", "refunded", False),
        ("refund*", "refunded twice", True),
        ('"on hold"', "been ON   hold for an hour", True),
        ('"on hold"', "hold on", False),
        ("voltbook AND battery", "voltbook battery swelled", True),
        ("voltbook battery", "my voltbook screen", False),
        ("hinge OR battery", "the hinge cracked", True),
        ("voltbook NOT arena", "voltbook arena tickets", False),
        ("(refund OR charge) AND NOT thanks", "charged twice", False),
        ("(refund OR charge*) AND NOT thanks", "charged twice", True),
        ("@voltmart", "hey @Voltmart help", True),
        ("#fail", "another #fail from them", True),
        ("volt", "revolt", False),
    ],
)
def test_rule_language(rule: str, text: str, expected: bool) -> None:
    assert compile_rule(rule)(text) is expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("(refund OR", "ends where a term was expected"),
        ("(refund", "unclosed parenthesis at position 0"),
        ('"on hold', "unclosed quote"),
        ("refund )", "unexpected ')' at position 7"),
        ('""', "empty phrase"),
    ],
)
def test_bad_rules_name_the_problem(rule: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError, match=re.escape(message)):
        compile_rule(rule)


def test_brand_matcher_aliases_and_exclusions() -> None:
    matcher = BrandMatcher.build("Voltmart", ["Volt Mart"], ["voltbook*"], ['"voltmart arena"'])
    assert matcher.matches("Volt Mart lost my order")
    assert matcher.matches("my Voltbook Pro died")
    assert not matcher.matches("concert at the Voltmart Arena tonight")
    assert not matcher.matches("Best Buy lost my order")


@pytest.mark.parametrize(
    ("rule", "subjects"),
    [
        ("voltbook*", ["voltbook*"]),
        ('voltbook AND (battery OR hinge) NOT "voltbook arena"', ["voltbook"]),
        ('"volt mart" OR @voltmart OR volt*', ["volt mart", "@voltmart", "volt*"]),
        ("NOT arena voltbook", ["voltbook"]),
        ("(voltbook OR voltpad) AND screen", ["voltbook", "voltpad"]),
        ("voltbook AND (battery OR hinge) OR voltpad", ["voltbook", "voltpad"]),
    ],
)
def test_subject_terms_are_the_first_term_of_each_alternative(rule: str, subjects: list[str]) -> None:
    # The terms ANDed after a product often name the problem ("battery"); they must stay in issue texts.
    assert subject_terms(rule) == subjects
