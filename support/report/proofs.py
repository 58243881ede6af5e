"""What proves that the suite's Thens can fail: the mutant catalogue (tests/mutants.toml) and
the verdicts its last full run recorded (docs/mutants.md). support/tools/mutants.py runs the
mutants; the living specification shows them beside their scenarios."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOGUE = Path("tests/mutants.toml")
RECORD = Path("docs/mutants.md")
VERDICTS = ("killed", "survived", "elsewhere", "unrun")


@dataclass(frozen=True)
class Edit:
    file: str  # the file changed, relative to the repository
    old: str  # text that stands exactly once in that file
    new: str  # what it becomes


@dataclass(frozen=True)
class Mutant:
    name: str  # what is broken, in the platform's words
    then: str  # the Then step definition's pattern, as in its @then(...)
    where: str  # features/x.feature:LINE, the scenario (or the line of one of its steps)
    edits: tuple[Edit, ...]
    args: tuple[str, ...] = ()  # behave's, beside the location (e.g. a tag the default leaves out)

    @property
    def files(self) -> str:
        return ", ".join(sorted({f"`{edit.file}`" for edit in self.edits}))


def catalogue(path: Path = CATALOGUE) -> list[Mutant]:
    return [
        Mutant(entry["name"], entry["then"], entry["where"],
               tuple(Edit(**edit) for edit in entry["edit"]), tuple(entry.get("args", ())))
        for entry in tomllib.loads(path.read_text())["mutant"]
    ]  # fmt: skip


def table_head() -> list[str]:
    return ["| Then | mutant (what was broken) | scenario | verdict |", "|---|---|---|---|"]


def recorded_row(mutant: Mutant, verdict: str) -> str:
    return f"| {mutant.then} | {mutant.name} ({mutant.files}) | {mutant.where} | {verdict} |"


def recorded(record: Path = RECORD) -> dict[str, str]:
    """Each mutant's verdict in the table the last full run recorded, by the mutant's name."""
    verdicts = {}
    if record.exists():
        for line in record.read_text().splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if len(cells) == 4 and cells[3] in VERDICTS:
                verdicts[cells[1].rpartition(" (`")[0] or cells[1]] = cells[3]
    return verdicts
