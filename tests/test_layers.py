"""support/ is built in floors (docs/architecture.md): a package imports only from floors below
its own, never a sibling on its floor and never one above. This test reads every import."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parent.parent / "support"

# Lowest first. Packages on one floor are independent of each other.
FLOORS: list[set[str]] = [
    {"core"},  # polling, verdicts, the contract's rules, the target value: no peer, no I/O
    {"media"},  # AMF0, FLV, MPEG-TS, fMP4, the media fixture
    {"rtmp", "hls", "stores"},  # protocol libraries and store checkers
    {"clients", "stack"},  # the platform's clients (API, viewer, broadcaster); the embedded stack
    {"harness"},  # what scenarios stand on: the world, observations, faults, probes
    {"chaos"},  # chaos with a history: the workload, the nemesis, the history and its checker
    {"report"},  # Allure and console reporting of a run
    {"tools"},  # runners and command lines: parallel, mutants, soak, crowd, publish, profile
]
FLOOR = {package: level for level, packages in enumerate(FLOORS) for package in packages}
BEHAVE_FROM = FLOOR["harness"]  # behave and allure are imported from the harness up only


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "support" and len(parts) > 1 else None


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, the typing-only ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "support":
                found += [(node.lineno, f"support.{alias.name}") for alias in node.names]
    return found


def files() -> list[Path]:
    return sorted(SUPPORT.rglob("*.py"))


def violations(path: Path) -> list[str]:
    own = path.relative_to(SUPPORT).parts[0]
    found = []
    for line, module in imports(path):
        where = f"{path.relative_to(SUPPORT.parent)}:{line} imports {module}"
        other = package_of(module)
        top = module.split(".")[0]
        if other is not None and other != own:
            if other not in FLOOR:
                found.append(f"{where}: support.{other} stands on no floor")
            elif FLOOR[other] >= FLOOR[own]:
                relation = (
                    "a sibling on its floor" if FLOOR[other] == FLOOR[own] else "a floor above"
                )
                found.append(
                    f"{where}: {relation} ({own} is floor {FLOOR[own]}, {other} {FLOOR[other]})"
                )
        if (
            top in ("behave", "allure", "allure_behave", "allure_commons")
            and FLOOR[own] < BEHAVE_FROM
        ):
            found.append(f"{where}: behave and Allure belong to the harness and above")
    return found


def test_every_file_of_support_stands_in_a_folder_with_a_floor() -> None:
    loose = [p.name for p in SUPPORT.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"files at the root of support/ stand on no floor: {loose}"
    folders = {p.name for p in SUPPORT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(FLOOR), (
        f"folders without a floor, or floors without a folder: {folders ^ set(FLOOR)}"
    )


def test_no_import_points_up_or_sideways() -> None:
    broken = [problem for path in files() for problem in violations(path)]
    assert not broken, "imports against the floors of docs/architecture.md:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("own", "source", "complaint"),
    [
        ("rtmp", "from support.clients.broadcaster import Broadcast", "a floor above"),
        ("rtmp", "from support.hls.fetch import get", "a sibling on its floor"),
        ("core", "import behave", "behave and Allure"),
        ("media", "from support import harness", "a floor above"),
    ],
)
def test_the_rule_sees_an_import_up_or_sideways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: str, source: str, complaint: str
) -> None:
    fake_support = tmp_path / "support"
    (fake_support / own).mkdir(parents=True)
    module = fake_support / own / "bad.py"
    module.write_text(source + "\n")
    monkeypatch.setattr(sys.modules[__name__], "SUPPORT", fake_support)
    found = violations(module)
    assert any(complaint in problem for problem in found), found
