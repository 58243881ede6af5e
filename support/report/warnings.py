"""Warnings on the step that saw them: SHOULD rules a stream broke, which fail nothing."""

from __future__ import annotations

from collections.abc import Sequence

import allure

from support.core.verdict import Check


def attach_warnings(checks: Sequence[Check], subject: str) -> None:
    """One attachment on the current step, one line per broken SHOULD rule."""
    if not checks:
        return
    rules: dict[str, list[Check]] = {}
    for check in checks:
        rules.setdefault(str(check.rule), []).append(check)
    lines = [f"{rule}: {len(seen)} times; first: {seen[0].saw}" for rule, seen in rules.items()]
    allure.attach(
        "\n".join(lines),
        name=f"warnings: {subject} broke {len(rules)} SHOULD rule(s)",
        attachment_type=allure.attachment_type.TEXT,
    )
