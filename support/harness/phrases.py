"""Step parameter types that name one of a fixed set of phrases ("the event broker", "half a
handshake"): behave's parse types, made from the set the support layer already keeps."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable


def one_of(phrases: Iterable[str]) -> Callable[[str], str]:
    """A type matching exactly one of `phrases`, the longest first so none hides a longer one."""
    pattern = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))

    def phrase(text: str) -> str:
        return text

    phrase.pattern = pattern  # type: ignore[attr-defined]  # what parse.with_pattern sets
    return phrase
