"""Servers failing under the platform, as @fault scenarios name them, on the embedded stack.

Each server is stopped and started by the stack (support/stack); the platform is then judged on
what the contract says of that fault (docs/contract/README.md, "Faults"). Cleanup puts every
server back and waits until the platform reports itself healthy, so the next scenario starts on
a whole platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from support.harness.polling import eventually

if TYPE_CHECKING:
    from support.harness.world import Run

# What scenarios call each server of the embedded stack.
SERVERS = {
    "event broker": "kafka",
    "viewer counts store": "redis",
    "database": "postgres",
    "streaming service": "service",
    "ingest": "nginx",
    "analytics store": "clickhouse",
    "analytics consumer": "analytics",
}
# What /health calls the dependencies it reports.
HEALTH_NAMES = {"event broker": "kafka", "viewer counts store": "redis", "database": "postgres"}
RECOVERY = 20.0  # seconds for the whole platform to report healthy after its servers are back


def server(what: str) -> str:
    if what not in SERVERS:
        raise ValueError(f"no server called {what!r}; known: {', '.join(SERVERS)}")
    return SERVERS[what]


def stop(run: Run, what: str) -> None:
    run.embedded().stop_server(server(what))


def start(run: Run, what: str) -> None:
    run.embedded().start_server(server(what))


def restore(run: Run) -> None:
    """Every server running again and the platform healthy: the cleanup of a fault scenario."""
    stack = run.embedded()
    for name in SERVERS.values():
        stack.ensure_running(name)
    eventually(lambda: healthy(run), within=RECOVERY, every=0.2, what="the platform recovering")
    # A broker that restarted empty has the platform's topic again only once the relay has
    # published to it anew; the next scenario starts by marking where that topic ends.
    eventually(run.kafka.mark, within=RECOVERY, every=0.2, what="the event topic being back")


def healthy(run: Run) -> None:
    reply = run.loop.run(run.api.health())
    assert reply.status == 200, f"the platform reports itself unhealthy: {reply.describe()}"


def reported_failing(run: Run, what: str) -> None:
    """/health answers 503 and names the dependency as failing."""
    reply = run.loop.run(run.api.health())
    state = (reply.body or {}).get("dependencies", {}).get(HEALTH_NAMES[what])
    failing = reply.status == 503 and state != "ok"
    assert failing, (
        f"the platform should report the {what} ({HEALTH_NAMES[what]}) as failing: "
        f"{reply.describe()}"
    )
