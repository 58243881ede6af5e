"""`python -m support.tools.chaos --seed S --minutes M`: chaos with a history (`make chaos`).

On a fresh embedded stack, a workload of broadcasters and viewers (support/chaos/workload.py)
runs while the nemesis, drawn from the seed, kills, pauses and restarts its servers. Then every
server is healed, the platform is given the contract's bounds to settle, and the checker proves
its properties over the whole history (support/chaos/checker.py). Printed: the plan of faults,
the operations and their outcomes, the faults done, and every violation with its operations and
the faults around them. Kept in --out: the history (JSON lines), the timeline (PNG) and the
violations; an Allure result goes to --allure. Exit 1 when a violation was found.

The same seed draws the same faults and the same choices of every actor; what the platform
answers depends on timing too, so a violation is rerun with its seed and looked at in its history.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from support.chaos.checker import RECOVERY, Observed, Violation, check, end_deadline
from support.chaos.history import FAILED, OK, UNKNOWN, History
from support.chaos.nemesis import Nemesis, plan
from support.chaos.workload import Workload
from support.clients.api import ApiClient, ApiUnreachable
from support.core.target import Target
from support.report.plots import chaos_timeline
from support.stack import booted
from support.stores.clickhouse import ClickHouseChecker
from support.stores.kafka import KafkaChecker
from support.stores.postgres import PostgresChecker

OUT = Path("reports/chaos")
ALLURE = Path("reports/allure-results")
SETTLE = 30.0  # seconds for the analytics to catch up once the platform is healthy


async def chaos(seed: int, seconds: float, *, broadcasters: int, viewers: int, out: Path,
                allure: Path | None) -> int:  # fmt: skip
    planned = plan(seed, seconds)
    print(f"chaos, seed {seed}: {seconds:.0f} s of workload, {len(planned)} faults planned")
    for fault in planned:
        print(f"  {fault.describe()}")
    with booted() as (stack, target):
        history = History(seed, time.time())
        nemesis = Nemesis(stack, history)
        workload = Workload(target, history, seed, broadcasters, viewers)
        try:
            await asyncio.gather(workload.run(seconds), nemesis.run(planned))
        finally:
            await asyncio.to_thread(nemesis.heal)
        await recover(target, history)
        observed = await asyncio.to_thread(settle, target, history)
        history.ended = time.time()
        violations = check(history, observed)
    report(history, violations, observed, out, allure)
    return 1 if violations else 0


async def recover(target: Target, history: History) -> None:
    """Ask /health until it answers 200 (RECOVERY and 10 s more at most), each ask recorded."""
    api = ApiClient(target.api_url)
    try:
        deadline = time.time() + RECOVERY + 10.0
        while time.time() < deadline:
            op = history.invoke("checker", "health", None)
            try:
                reply = await api.health()
            except ApiUnreachable as error:
                history.complete(op, FAILED if error.refused else UNKNOWN, detail=str(error))
            else:
                history.complete(op, OK if reply.status == 200 else FAILED, reply.status)
                if reply.status == 200:
                    return
            await asyncio.sleep(0.5)
    finally:
        await api.close()


def settle(target: Target, history: History) -> Observed:
    """Wait until every stream whose publisher left has ended (or its bound has passed) and
    ClickHouse holds what Kafka holds (or SETTLE passed); then read what the stores hold."""
    streams = {op.stream for op in history.ops if op.stream and op.kind == "publish"}
    gone = {op.stream: op.invoked for op in reversed(history.ops)
            if op.stream and op.kind in ("stop", "drop", "lost")}  # fmt: skip
    deadline = max([end_deadline(t, history.faults) for t in gone.values()] + [time.time()])
    deadline = max(deadline, time.time() + SETTLE)
    kafka = KafkaChecker(target.kafka_bootstrap)
    clickhouse = ClickHouseChecker(target.clickhouse_url)
    while True:
        observed = observe(target, kafka, clickhouse, streams)
        ended = all(
            any(e["event_type"] == "stream.ended" for e in events) or stream not in gone
            for stream, events in observed.events.items()
        )
        caught_up = all(
            {e["event_id"] for e in events} == observed.analytics.get(stream)
            for stream, events in observed.events.items()
        )
        if (ended and caught_up) or time.time() > deadline:
            return observed
        time.sleep(1.0)


def observe(target: Target, kafka: KafkaChecker, clickhouse: ClickHouseChecker,
            streams: set[str]) -> Observed:  # fmt: skip
    events: dict[str, list[dict[str, Any]]] = {stream: [] for stream in streams}
    notes = []
    try:
        for event in kafka.events_since(kafka.beginning(), streams):
            events[str(event.payload["stream_id"])].append(event.payload)
            notes += [f"{event.payload.get('event_id')}: {p}" for p in event.problems]
    except Exception as error:  # a store that cannot be read is a finding
        notes.append(f"Kafka could not be read: {error!r}")
    try:
        analytics = clickhouse.event_ids(streams) if streams else {}
    except Exception as error:
        notes.append(f"ClickHouse could not be read: {error!r}")
        analytics = {}
    postgres = PostgresChecker(target.pg_dsn)
    rows = {stream: row for stream in streams if (row := postgres.stream(stream)) is not None}
    return Observed(events, analytics, rows, notes)


def report(history: History, violations: list[Violation], observed: Observed, out: Path,
           allure: Path | None) -> None:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    name = f"seed-{history.seed}"
    history.save(out / f"{name}.history.jsonl")
    timeline = chaos_timeline(history, violations)
    (out / f"{name}.timeline.png").write_bytes(timeline)
    text = "\n\n".join(v.describe() for v in violations) or "no violation"
    (out / f"{name}.violations.txt").write_text(text + "\n")
    outcomes = Counter((op.kind, op.outcome) for op in history.ops)
    print(f"\n{len(history.ops)} operations:")
    for kind in sorted({k for k, _ in outcomes}):
        counted = ", ".join(f"{outcomes[kind, o]} {o}" for o in (OK, FAILED, UNKNOWN)
                            if outcomes[kind, o])  # fmt: skip
        print(f"  {kind:8} {counted}")
    done = Counter((f.server, f.action) for f in history.faults)
    print(f"{len(history.faults)} faults: "
          + ", ".join(f"{n} {a} {s}" for (s, a), n in sorted(done.items())))  # fmt: skip
    streams = sum(1 for events in observed.events.values() if events)
    events = sum(len(events) for events in observed.events.values())
    print(f"{streams} streams went live; Kafka holds {events} of their events")
    for note in observed.notes:
        print(f"  note: {note}")
    print(f"{len(violations)} violations" + (":\n" + text if violations else ""))
    print(f"history, timeline and violations: {out}/{name}.*")
    if allure is not None:
        allure_result(history, violations, timeline, text, allure)


def allure_result(history: History, violations: list[Violation], timeline: bytes, text: str,
                  allure: Path) -> None:  # fmt: skip
    """One Allure test result for the run, with its timeline, violations and history attached
    (Allure's result format: a <uuid>-result.json beside its attachments)."""
    allure.mkdir(parents=True, exist_ok=True)
    run = str(uuid.uuid4())
    operations = "".join(op.describe() + "\n" for op in history.ops)
    attachments = []
    for label, suffix, kind, body in (
        ("timeline of faults and operations", "png", "image/png", timeline),
        ("violations", "txt", "text/plain", text.encode()),
        ("operations", "txt", "text/plain", operations.encode()),
    ):
        source = f"{uuid.uuid4()}-attachment.{suffix}"
        (allure / source).write_bytes(body)
        attachments.append({"name": label, "source": source, "type": kind})
    result = {
        "uuid": run,
        "historyId": f"chaos-seed-{history.seed}",
        "name": f"Chaos with seed {history.seed}: nothing acknowledged is lost",
        "fullName": f"chaos.seed-{history.seed}",
        "status": "failed" if violations else "passed",
        "statusDetails": {"message": text[:2000]} if violations else {},
        "stage": "finished",
        "start": int(history.began * 1000),
        "stop": int((history.ended or time.time()) * 1000),
        "labels": [
            {"name": "feature", "value": "Chaos"},
            {"name": "suite", "value": "chaos"},
            {"name": "story", "value": f"seed {history.seed}"},
        ],
        "attachments": attachments,
    }
    (allure / f"{run}-result.json").write_text(json.dumps(result))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.tools.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, action="append",
                        help="the seed of a run; repeat for several runs (default: 1)")  # fmt: skip
    parser.add_argument("--minutes", type=float, default=2.0, help="workload length of each run")
    parser.add_argument("--broadcasters", type=int, default=3)
    parser.add_argument("--viewers", type=int, default=6)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--allure", type=Path, default=ALLURE,
                        help="where the Allure results go (default: %(default)s)")  # fmt: skip
    args = parser.parse_args(argv)
    failed = 0
    for seed in args.seed or [1]:
        run = chaos(seed, args.minutes * 60, broadcasters=args.broadcasters,
                    viewers=args.viewers, out=args.out, allure=args.allure)  # fmt: skip
        failed |= asyncio.run(run)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
