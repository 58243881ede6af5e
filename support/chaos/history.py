"""What happened in a chaos run: every operation with its outcome, every fault with its span.

An operation is known by its invocation and completion instants (wall-clock seconds, the clock
the service stamps its events with, since the embedded stack runs on the same machine) and its
outcome: `ok` (done), `failed` (certainly not done: refused, or never sent), or `unknown` (no
answer: it may have been done, now or later). A timeout is unknown, never failed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "failed", "unknown"]
OK: Outcome = "ok"
FAILED: Outcome = "failed"
UNKNOWN: Outcome = "unknown"


@dataclass
class Op:
    """One operation of the workload: `kind` is create, publish, stop, drop, lost (the platform
    closed a broadcaster's connection), join, leave, page or health."""

    index: int
    actor: str
    kind: str
    stream: str | None
    invoked: float
    completed: float | None = None  # None while it runs, and for ever if it never answered
    outcome: Outcome | None = None
    status: int | None = None  # the HTTP status, when there was one
    detail: str = ""
    user: str | None = None

    def window(self, end_of_run: float) -> tuple[float, float]:
        """When it can have taken effect: an unknown operation until the run's end."""
        if self.outcome == UNKNOWN or self.completed is None:
            return self.invoked, end_of_run
        return self.invoked, self.completed

    def describe(self) -> str:
        took = f"{self.completed - self.invoked:.2f} s" if self.completed else "no answer"
        status = f" {self.status}" if self.status is not None else ""
        who = f" by {self.user}" if self.user else ""
        on = f" on {self.stream[:8]}" if self.stream else ""
        detail = f": {self.detail}" if self.detail else ""
        return (
            f"#{self.index} {self.actor} {self.kind}{on}{who} at {self.invoked:.2f} "
            f"({took}) -> {self.outcome}{status}{detail}"
        )


@dataclass
class Fault:
    """A server of the stack stopped (`kill`), paused (`pause`, SIGSTOP) or restarted."""

    server: str
    action: str
    began: float
    healed: float | None = None

    def overlaps(self, start: float, end: float, margin: float = 0.0) -> bool:
        healed = self.healed if self.healed is not None else float("inf")
        return self.began <= end and start <= healed + margin

    def describe(self) -> str:
        healed = f"{self.healed:.2f}" if self.healed is not None else "never"
        return f"{self.action} {self.server} from {self.began:.2f} to {healed}"


@dataclass
class History:
    seed: int
    began: float
    ops: list[Op] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    ended: float | None = None

    def invoke(self, actor: str, kind: str, stream: str | None, **fields: Any) -> Op:
        op = Op(len(self.ops), actor, kind, stream, time.time(), **fields)
        self.ops.append(op)
        return op

    def complete(self, op: Op, outcome: Outcome, status: int | None = None, detail: str = "") -> Op:
        op.completed, op.outcome, op.status, op.detail = time.time(), outcome, status, detail
        return op

    def faults_around(self, start: float, end: float, margin: float = 2.0) -> list[Fault]:
        return [f for f in self.faults if f.overlaps(start - margin, end + margin)]

    def last_heal(self) -> float:
        return max((f.healed or 0.0 for f in self.faults), default=self.began)

    def of(self, kind: str) -> list[Op]:
        return [op for op in self.ops if op.kind == kind]

    def save(self, path: Path) -> None:
        """One JSON object a line: the run, then each fault, then each operation."""
        lines = [{"run": {"seed": self.seed, "began": self.began, "ended": self.ended}}]
        lines += [{"fault": asdict(f)} for f in self.faults]
        lines += [{"op": asdict(op)} for op in self.ops]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    @classmethod
    def load(cls, path: Path) -> History:
        history: History | None = None
        for line in path.read_text().splitlines():
            item = json.loads(line)
            if "run" in item:
                run = item["run"]
                history = cls(run["seed"], run["began"], ended=run["ended"])
            elif history is None:
                raise ValueError(f"{path}: the first line must describe the run")
            elif "fault" in item:
                history.faults.append(Fault(**item["fault"]))
            else:
                history.ops.append(Op(**item["op"]))
        if history is None:
            raise ValueError(f"{path} holds no chaos history")
        return history
