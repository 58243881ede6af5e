"""docs/hls-rules.md is the table the rules themselves make."""

from __future__ import annotations

from pathlib import Path

from support.tools import rules

DOC = Path(__file__).parent.parent / "docs" / "hls-rules.md"


def test_the_rules_table_in_docs_is_current() -> None:
    assert DOC.read_text() == rules.table(), (
        "docs/hls-rules.md is stale: python -m support.tools.rules > docs/hls-rules.md"
    )


def test_every_rule_is_listed_once_with_a_keyword_and_a_source() -> None:
    found = [rule for _, rule in rules.rules()]
    assert len(found) == len(set(found)) > 50
    assert all(rule.keyword in ("MUST", "SHOULD") and rule.source for rule in found)
