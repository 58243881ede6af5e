"""A crowd of viewers on Locust, in distributed mode: one master, N workers.

    .venv/bin/python bench/crowd.py --viewers 1000 --workers 2 [--events 5]
    make load VIEWERS=1000 WORKERS=2

On the embedded stack unless a target is configured (NOVA_API_URL and the rest, as for the
suite). The stream goes live with the suite's own RTMP publisher; Locust's users open its page
(bench/locustfile.py); once the service counts every page open, `--events` viewers join and the
broadcast ends, each an event every page must be told. The verdict: every viewer was told every
event exactly once, in order, within the contract; the delivery percentiles are Locust's own,
merged across its workers (reports/load/*.csv).

With `--profile SECONDS`, py-spy samples the service and every local worker for that long from
the moment the crowd starts to open its pages (reports/load/profile-*.txt, collapsed stacks)
and the frames each spent most samples in are printed: what limits the crowd.

With `--workers-elsewhere`, no worker is started here: start them on other machines with
`locust -f bench/locustfile.py --worker --master-host THIS_HOST` and the same NOVA_ROOM_URL and
NOVA_EXPECTED, which this command prints (docs/running.md).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from support.clients.api import ApiClient, room_url
from support.clients.broadcaster import Broadcast
from support.clients.metrics import scrape
from support.core.target import Target, configured
from support.harness.identity import Person, TokenIssuer
from support.stack import booted
from support.tools.crowd import verdict
from support.tools.profile import top

OUT = Path("reports/load")
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STALLED = 30.0  # seconds without one more page open: the crowd has grown as far as it will


def locust(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


async def wait_for_pages(target: Target, api: ApiClient, viewers: int, within: float) -> int:
    """Wait until the service counts `viewers` open pages, or `within` s pass (the count then
    stops growing): how many it counted."""
    began, counted, best, steady_since = time.monotonic(), 0, 0, time.monotonic()
    while time.monotonic() - began < within and counted < viewers:
        await asyncio.sleep(0.5)
        metrics = await scrape(api.session, target.metrics_url)
        counted = int(metrics.value("nova_streaming_websocket_connections"))
        if counted > best:
            best, steady_since = counted, time.monotonic()
        elif time.monotonic() - steady_since > STALLED:
            break
    print(f"{counted} of {viewers} pages open after {time.monotonic() - began:.1f} s", flush=True)
    return counted


def read_stats(path: Path) -> list[dict[str, str]]:
    with path.open() as file:
        return list(csv.DictReader(file))


def profile(pid: int, name: str, seconds: int) -> subprocess.Popen[bytes]:
    """py-spy sampling one process for `seconds` into reports/load/profile-NAME.txt."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
         "--duration", str(seconds), "--rate", "50", "--format", "raw", "--nonblocking",
         "-o", str(OUT / f"profile-{name}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def report_profiles(samplers: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, sampler in samplers.items():
        sampler.wait()
        path = OUT / f"profile-{name}.txt"
        if path.exists():
            print(f"\n{name}: where the samples ended ({path})\n{top(path.read_text())}")


async def conduct(target: Target, args: argparse.Namespace, service_pid: int | None) -> int:
    issuer = TokenIssuer(target.jwt_private_key)
    api = ApiClient(target.api_url)
    stream = (await api.create_stream(issuer.token_for(Person("Ada")), {"title": "crowd"})).body
    broadcast = await Broadcast.start(stream["publish_url"])
    expected = ["viewer_count_changed"] * args.events + ["stream_ended"]
    env = {**os.environ, "NOVA_ROOM_URL": room_url(target.api_url, stream["stream_id"]),
           "NOVA_EXPECTED": ",".join(expected)}  # fmt: skip
    print(f"NOVA_ROOM_URL={env['NOVA_ROOM_URL']} NOVA_EXPECTED={env['NOVA_EXPECTED']}", flush=True)
    master = locust(
        "--master", "--headless", "--expect-workers", str(args.workers), "-u", str(args.viewers),
        "-r", str(args.spawn_rate), "--csv", str(OUT / "crowd"), "--only-summary",
        "--stop-timeout", "10", "--run-time", f"{args.run_time}s",
        env=env, log=OUT / "master.log",
    )  # fmt: skip
    workers = [] if args.workers_elsewhere else [
        locust("--worker", env=env, log=OUT / f"worker-{n}.log") for n in range(args.workers)
    ]  # fmt: skip
    samplers: dict[str, subprocess.Popen[bytes]] = {}
    if args.profile:
        pids = {f"worker-{n}": worker.pid for n, worker in enumerate(workers)}
        if service_pid is not None:
            pids["service"] = service_pid
        samplers = {name: profile(pid, name, args.profile) for name, pid in pids.items()}
    try:
        await wait_for_pages(target, api, args.viewers, within=args.run_time)
        for number in range(args.events):
            await api.join(issuer.token_for(Person(f"joiner {number}")), stream["stream_id"])
        await broadcast.end()
        await asyncio.sleep(args.settle)
    finally:
        master.terminate()  # the master stops its workers and writes the CSV
        master.wait(timeout=60)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker too busy to hear its master
                worker.kill()
                worker.wait()
        await api.close()
    report_profiles(samplers)
    ok, figures = verdict(read_stats(OUT / "crowd_stats.csv"), args.viewers)
    print(figures)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--spawn-rate", type=int, default=500)
    parser.add_argument("--run-time", type=int, default=600, help="seconds, at most")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds for the last event")
    parser.add_argument("--workers-elsewhere", action="store_true")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="sample the service and the workers with py-spy",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    target = configured({}, os.environ)
    if target is not None:
        return asyncio.run(conduct(target, args, None))
    with booted() as (stack, embedded):
        return asyncio.run(conduct(embedded, args, stack.servers["service"].pid))


if __name__ == "__main__":
    sys.exit(main())
