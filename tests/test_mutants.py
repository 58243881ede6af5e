"""The mutant catalogue covers every Then, and the runner's verdicts say where a scenario failed."""

from pathlib import Path
from typing import Any

import pytest

from support.report.proofs import Edit, Mutant, catalogue
from support.tools.mutants import judge, mutate, then_patterns

REPO = Path(__file__).resolve().parent.parent


def test_every_then_has_a_mutant() -> None:
    defined = set(then_patterns(REPO / "features/steps"))
    covered = {mutant.then for mutant in catalogue(REPO / "tests/mutants.toml")}
    assert defined - covered == set(), "Then steps no mutant proves can fail"
    assert covered - defined == set(), "mutants name Then steps that are not defined"


@pytest.mark.parametrize("mutant", catalogue(REPO / "tests/mutants.toml"), ids=lambda m: m.name)
def test_every_mutant_still_applies(mutant: Mutant) -> None:
    feature, line = mutant.where.split(":")
    assert int(line) <= len((REPO / feature).read_text().splitlines())
    for edit in mutant.edits:
        assert mutate((REPO / edit.file).read_text(), edit) != (REPO / edit.file).read_text()


def test_an_edit_whose_text_is_not_there_once_is_refused() -> None:
    edit = Edit("x.py", "a = 1", "a = 2")
    assert mutate("a = 1\n", edit) == "a = 2\n"
    for text in ("b = 1\n", "a = 1\na = 1\n"):
        with pytest.raises(ValueError, match="not once"):
            mutate(text, edit)


def test_then_patterns_are_located_at_the_first_decorator(tmp_path: Path) -> None:
    (tmp_path / "x_steps.py").write_text(
        'import behave\n\n\n@then("one")\n@then("two")\ndef both(context):\n    pass\n\n\n'
        '@when("acting")\ndef act(context):\n    pass\n\n\n'
        '@given("set up")\n@then("three")\ndef three(context):\n    pass\n'
    )
    path = tmp_path / "x_steps.py"
    assert then_patterns(tmp_path) == {"one": f"{path}:4", "two": f"{path}:4",
                                       "three": f"{path}:15"}  # fmt: skip


def scenario(name: str, *steps: tuple[str, str]) -> dict[str, Any]:
    """A scenario of behave's JSON report; each step (status, its definition's location)."""
    return {
        "type": "scenario",
        "name": name,
        "location": "features/x.feature:3",
        "status": None,
        "steps": [
            {"keyword": "Then", "name": f"step {n}", "match": {"location": where},
             "result": {"status": status, "duration": 0.1,
                        "error_message": ["boom"] if status == "failed" else []}}
            for n, (status, where) in enumerate(steps)
        ],
    }  # fmt: skip


MUTANT = Mutant("broken", "it holds", "features/x.feature:3", ())
THEN = "features/steps/x.py:10"


@pytest.mark.parametrize(
    ("steps", "verdict"),
    [
        ([("passed", "s.py:1"), ("failed", THEN)], "killed"),
        ([("passed", "s.py:1"), ("passed", THEN)], "survived"),
        ([("failed", "s.py:1"), ("skipped", THEN)], "elsewhere"),
    ],
)
def test_a_mutant_is_killed_only_at_its_then(steps: list[tuple[str, str]], verdict: str) -> None:
    report = [{"name": "X", "elements": [scenario("s", *steps)]}]
    assert judge(MUTANT, report, THEN)[0] == verdict


def test_a_scenario_that_did_not_run_is_unrun() -> None:
    skipped = scenario("other", ("skipped", THEN))
    skipped["status"] = "skipped"
    assert judge(MUTANT, [{"name": "X", "elements": [skipped]}], THEN)[0] == "unrun"
    assert judge(MUTANT, [], THEN)[0] == "unrun"
