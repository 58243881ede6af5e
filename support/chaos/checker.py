"""The checker of a chaos run: the contract's properties proved over the whole history.

Every rule reads the history (support/chaos/history.py) and what the stores hold once the run
is over (`Observed`), and gives the violations it found, each naming the operations involved
and the faults around them. Unknown outcomes are taken either way: an operation that timed out
may or may not have been done, and only a history that no choice explains is a violation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from support.chaos.history import FAILED, OK, UNKNOWN, Fault, History, Op

# The contract's bounds (docs/contract/README.md, "Faults"), in seconds.
STORE_RECOVERY = 5.0  # a store is back: the platform answers again
UNSEEN = 6.0  # a live stream not reported for this long is ended
END_BOUND = 10.0  # an end the service missed is made within this of its return
GRACE = 6.0  # after PostgreSQL last failed, no stream is ended as unreported
RECOVERY = 15.0  # after the last fault, the whole platform is healthy again
SLACK = 1.0  # what a busy two-core machine adds to any of these
# The servers whose outage may delay an end, and those whose outage may answer 503. An end is a
# change Redis must take (contract, "Faults": an operation that needs a store that is down answers
# 503 and changes nothing), so while Redis is down the ingest's end is refused and the reaper
# makes it once Redis is back (make chaos, seed 7: a broadcaster dropped while Redis was killed).
DELAY_END = frozenset({"service", "postgres", "redis", "nginx"})
ANSWER_503 = frozenset({"postgres", "redis", "service"})
VIEWER_EVENTS = ("viewer.joined", "viewer.left")


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    ops: tuple[Op, ...] = ()
    faults: tuple[Fault, ...] = ()

    def describe(self) -> str:
        lines = [f"[{self.rule}] {self.message}"]
        lines += [f"    op {op.describe()}" for op in self.ops]
        lines += [f"    fault {fault.describe()}" for fault in self.faults]
        return "\n".join(lines)


@dataclass
class Observed:
    """What the platform holds once the run is over and every fault healed."""

    events: dict[str, list[dict[str, Any]]]  # Kafka's events of each stream, in topic order
    analytics: dict[str, set[str]]  # ClickHouse's event ids of each stream
    rows: dict[str, dict[str, Any]]  # PostgreSQL's row of each stream
    notes: list[str] = field(default_factory=list)


def seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def check(history: History, observed: Observed) -> list[Violation]:
    found: list[Violation] = []
    for rule in RULES:
        found += rule(history, observed)
    return found


def only_503(history: History, _: Observed) -> Iterable[Violation]:
    """A server error is 503 and only while a store (or the service itself) is out."""
    for op in history.ops:
        if op.status is None or op.status < 500:
            continue
        around = tuple(history.faults_around(op.invoked, op.completed or op.invoked, 0.0))
        if op.status != 503:
            yield Violation("only 503", f"answered {op.status}, not 503", (op,), around)
            continue
        excused = any(
            f.server in ANSWER_503
            and f.overlaps(op.invoked, op.completed or op.invoked, STORE_RECOVERY + SLACK)
            for f in history.faults
        )
        if not excused:
            nearby = tuple(history.faults_around(op.invoked, op.invoked, 10.0))
            yield Violation("503 only in an outage", "503 with every store up", (op,), nearby)


def exactly_once(history: History, observed: Observed) -> Iterable[Violation]:
    """Each event once in Kafka, and ClickHouse holds exactly Kafka's events."""
    for stream, events in observed.events.items():
        counts = Counter(e["event_id"] for e in events)
        twice = sorted(event_id for event_id, n in counts.items() if n > 1)
        if twice:
            yield Violation("once in Kafka", f"stream {stream}: events published twice: {twice}")
        in_kafka, in_clickhouse = set(counts), observed.analytics.get(stream, set())
        if in_kafka != in_clickhouse:
            yield Violation(
                "ClickHouse holds Kafka's events",
                f"stream {stream}: missing from ClickHouse {sorted(in_kafka - in_clickhouse)}, "
                f"in ClickHouse only {sorted(in_clickhouse - in_kafka)}",
            )


def lifecycle(history: History, observed: Observed) -> Iterable[Violation]:
    """Per stream, in Kafka's order: started once, by a publish that was not refused, first;
    ended at most once and last; timestamps in order."""
    end = history.ended or float("inf")
    for stream, events in observed.events.items():
        ops = tuple(op for op in history.ops if op.stream == stream)
        kinds = [e["event_type"] for e in events]
        stamps = [seconds(e["timestamp"]) for e in events]
        if stamps != sorted(stamps):
            yield Violation("in order", f"stream {stream}: events out of order: {kinds}", ops)
        if kinds.count("stream.started") > 1 or kinds.count("stream.ended") > 1:
            yield Violation("one start, one end", f"stream {stream}: {kinds}", ops)
        if kinds and kinds[0] != "stream.started":
            yield Violation("started first", f"stream {stream}: first event {kinds[0]}", ops)
        if "stream.ended" in kinds and kinds[-1] != "stream.ended":
            yield Violation("nothing after the end", f"stream {stream}: {kinds}", ops)
        publishes = [op for op in ops if op.kind == "publish"]
        started = [s for s, k in zip(stamps, kinds, strict=True) if k == "stream.started"]
        if any(op.outcome == OK for op in publishes) and not started:
            yield Violation("an accepted publish is live", f"stream {stream}: no stream.started",
                            tuple(publishes))  # fmt: skip
        for moment in started:
            if not any(
                op.outcome in (OK, UNKNOWN) and within(moment, op.window(end)) for op in publishes
            ):
                yield Violation(
                    "no refused change appears",
                    f"stream {stream}: started at {moment:.2f}, by no publish that was accepted",
                    tuple(publishes),
                    tuple(history.faults_around(moment, moment)),
                )


def within(moment: float, window: tuple[float, float]) -> bool:
    return window[0] - SLACK / 10 <= moment <= window[1] + SLACK / 10


def audience(history: History, observed: Observed) -> Iterable[Violation]:
    """Each viewer's joins and leaves of each stream: every acknowledged change appears once,
    no refused one appears, and each event is explained by an operation whose window holds it.
    The counts the events carry follow from the events before them; the peak is their most."""
    end = history.ended or float("inf")
    pairs: dict[tuple[str, str], list[Op]] = {}
    for op in history.ops:
        if op.kind in ("join", "leave") and op.stream and op.user:
            pairs.setdefault((op.stream, op.user), []).append(op)
    for stream, events in observed.events.items():
        viewer_events = [e for e in events if e["event_type"] in VIEWER_EVENTS]
        users = {e.get("user_id") for e in viewer_events} | {u for s, u in pairs if s == stream}
        for user in sorted(u for u in users if u):
            ops = pairs.get((stream, user), [])
            mine = [e for e in viewer_events if e.get("user_id") == user]
            problem = explain(ops, mine, end, live_until(events))
            if problem is not None:
                yield Violation(
                    "joins and leaves, each once",
                    f"stream {stream}, viewer {user}: {problem}; events "
                    + ", ".join(f"{e['event_type']}@{seconds(e['timestamp']):.2f}" for e in mine),
                    tuple(ops),
                    tuple(history.faults_around(ops[0].invoked, ops[-1].invoked) if ops else ()),
                )
        yield from counts(stream, events, observed.rows.get(stream))


def live_until(events: list[dict[str, Any]]) -> float:
    ended = [seconds(e["timestamp"]) for e in events if e["event_type"] == "stream.ended"]
    return ended[0] if ended else float("inf")


def explain(ops: list[Op], events: list[dict[str, Any]], end: float, ended: float) -> str | None:
    """None if some choice of the unknown outcomes turns `ops`, in order, into exactly `events`;
    else what first went wrong. A state is (events explained so far, joined or not)."""
    states = {(0, False)}
    for op in ops:
        following: set[tuple[int, bool]] = set()
        for state in states:
            following |= set(steps(op, state, events, end, ended))
        if not following:
            return f"nothing explains op #{op.index} ({op.kind} -> {op.outcome})"
        states = following
    if not any(done == len(events) for done, _ in states):
        left = min(len(events) - done for done, _ in states)
        return f"{left} event(s) no operation explains (a refused or unasked change)"
    return None


def steps(
    op: Op, state: tuple[int, bool], events: list[dict[str, Any]], end: float, ended: float
) -> Iterable[tuple[int, bool]]:
    """Where one operation can take a state: not done (unless it is ok), done (unless failed)."""
    done, joined = state
    if op.outcome != OK:
        yield state
    if op.outcome == FAILED:
        return
    start, stop = op.window(end)
    if ended < start:  # the stream was over: a join is refused, a leave changes nothing
        if op.kind == "leave":
            yield done, False
        return
    if (op.kind == "join") == joined:  # joined twice, or a leave of no one: nothing changes
        yield state
        return
    wanted = "viewer.joined" if op.kind == "join" else "viewer.left"
    nxt = events[done] if done < len(events) else None
    if nxt and nxt["event_type"] == wanted and within(seconds(nxt["timestamp"]), (start, stop)):
        yield done + 1, op.kind == "join"
    if op.kind == "leave" and ended <= stop:
        yield done, False  # the stream ended while the leave was made: it changed nothing


def counts(stream: str, events: list[dict[str, Any]], row: dict[str, Any] | None
           ) -> Iterable[Violation]:  # fmt: skip
    viewers = peak = 0
    for e in events:
        if e["event_type"] in VIEWER_EVENTS:
            viewers += 1 if e["event_type"] == "viewer.joined" else -1
            peak = max(peak, viewers)
            if e.get("viewer_count") != viewers:
                yield Violation(
                    "counts follow the events",
                    f"stream {stream}: {e['event_type']} of {e.get('user_id')} says "
                    f"{e.get('viewer_count')} viewers; the events before it make {viewers}",
                )
        elif e["event_type"] == "stream.ended" and e.get("peak_viewers") != peak:
            yield Violation(
                "the peak follows the events",
                f"stream {stream}: stream.ended says peak {e.get('peak_viewers')}; "
                f"the events make {peak}",
            )
    if row is not None and row.get("peak_viewers") != peak:
        yield Violation(
            "the peak follows the events",
            f"stream {stream}: PostgreSQL keeps peak {row.get('peak_viewers')}; events make {peak}",
        )


def broadcasts(history: History, observed: Observed) -> Iterable[Violation]:
    """No stream stays live without its publisher beyond the contract's bound, and no
    broadcaster is dropped for the platform's outage (only the ingest's own fault may)."""
    for stream, events in observed.events.items():
        ops = tuple(op for op in history.ops if op.stream == stream)
        if not any(e["event_type"] == "stream.started" for e in events):
            continue
        gone = [op for op in ops if op.kind in ("stop", "drop", "lost")]
        ended = live_until(events)
        if gone:
            left = gone[0].invoked
            deadline = end_deadline(left, history.faults)
            if ended > deadline:
                yield Violation(
                    "no stream live without its publisher",
                    f"stream {stream}: its publisher left at {left:.2f}; "
                    + (f"ended at {ended:.2f}" if ended < float("inf") else "never ended")
                    + f", after the bound ({deadline:.2f})",
                    ops,
                    tuple(history.faults_around(left, min(ended, deadline))),
                )
        for op in ops:
            if op.kind != "lost":
                continue
            ingest = [f for f in history.faults_around(op.invoked, op.invoked, 3.0)
                      if f.server == "nginx"]  # fmt: skip
            if not ingest:
                yield Violation(
                    "no broadcaster dropped for the platform's outage",
                    f"stream {stream}: the ingest closed its broadcaster's connection "
                    f"at {op.invoked:.2f} with the ingest up ({op.detail})",
                    ops,
                    tuple(history.faults_around(op.invoked - 10.0, op.invoked)),
                )


def end_deadline(left: float, faults: list[Fault]) -> float:
    """When a stream whose publisher left at `left` must be ended: END_BOUND after, moved on by
    every outage of a server the end needs, plus the grace after PostgreSQL's."""
    deadline = left + END_BOUND + UNSEEN + SLACK
    moved = True
    while moved:
        moved = False
        for fault in faults:
            if fault.server in DELAY_END and fault.overlaps(left, deadline):
                healed = fault.healed if fault.healed is not None else float("inf")
                later = healed + END_BOUND + GRACE + SLACK
                if later > deadline:
                    deadline, moved = later, True
    return deadline


def recovered(history: History, _: Observed) -> Iterable[Violation]:
    """Once the workload stopped and the last fault healed, the platform reports itself healthy
    within RECOVERY."""
    checks = history.of("health")
    healthy = [op for op in checks if op.outcome == OK]
    asked = checks[0].invoked if checks else history.began  # when the run's workload stopped
    bound = max(history.last_heal(), asked) + RECOVERY
    if not healthy or (healthy[0].completed or float("inf")) > bound:
        yield Violation(
            "back after the last fault",
            f"not healthy within {RECOVERY:.0f} s of the last fault healed",
            tuple(checks[-3:]),
        )


def servers_stay_up(history: History, _: Observed) -> Iterable[Violation]:
    """A server stops only when the nemesis stops it, and starts again when it is told to."""
    for op in history.of("crash"):
        yield Violation("servers stay up", op.detail, (op,),
                        tuple(history.faults_around(op.invoked - 10.0, op.invoked)))  # fmt: skip


RULES: tuple[Callable[[History, Observed], Iterable[Violation]], ...] = (
    only_503,
    exactly_once,
    lifecycle,
    audience,
    broadcasts,
    recovered,
    servers_stay_up,
)
