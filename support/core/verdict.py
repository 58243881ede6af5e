"""Rules with their source and RFC 2119 keyword, and the checks that judge a stream by them.

A rule names where it comes from (an RFC section, an ISO clause, or the contract) and how strong
it is: a broken MUST fails the scenario; a broken SHOULD is a warning that the report shows and
that fails nothing. Every checker in support/hls and support/media reports `Check` values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MUST, SHOULD = "MUST", "SHOULD"


@dataclass(frozen=True)
class Rule:
    name: str
    keyword: str  # MUST or SHOULD
    source: str  # "RFC 8216 6.2.2", "ISO/IEC 14496-12 8.8.5", "contract: HLS"

    def check(self, passed: bool, saw: str) -> Check:
        return Check(self, passed, saw)

    def __str__(self) -> str:
        return f"{self.name} ({self.keyword}, {self.source})"


@dataclass(frozen=True)
class Check:
    rule: Rule
    passed: bool
    saw: str

    @property
    def failed(self) -> bool:
        return not self.passed and self.rule.keyword == MUST

    @property
    def warning(self) -> bool:
        return not self.passed and self.rule.keyword == SHOULD

    def __str__(self) -> str:
        mark = "ok  " if self.passed else ("warn" if self.warning else "FAIL")
        return f"[{mark}] {self.rule}: {self.saw}"


def failures(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.failed]


def warnings(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.warning]
