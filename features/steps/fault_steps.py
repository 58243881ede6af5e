# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Faults: servers under the platform going down and coming back (embedded stack, @fault)."""

import time

from behave import given, then, when
from behave.runner import Context

from support.clients.viewer import Watching
from support.harness import faults
from support.harness.polling import eventually
from support.harness.world import world_of


@given("the {what:Server} is down")
def server_down(context: Context, what: str) -> None:
    world = world_of(context)
    context.add_cleanup(lambda: faults.restore(world.run))
    faults.stop(world.run, what)
    if what == "event broker":
        world.marks.kafka = {}  # it comes back without its topic: read the new one from its start


@given("the {what:Server} has been down for {seconds:d} seconds")
def server_down_for(context: Context, what: str, seconds: int) -> None:
    """An outage that lasts: the time is the scenario's, not a wait for something to happen."""
    server_down(context, what)
    time.sleep(seconds)


@when("the {what:Server} comes back")
def server_back(context: Context, what: str) -> None:
    faults.start(world_of(context).run, what)


@when("the {what:Server} restarts")
def server_restarts(context: Context, what: str) -> None:
    server_down(context, what)
    server_back(context, what)


@then("the platform reports the {what:Server} as failing")
def reported_failing(context: Context, what: str) -> None:
    world = world_of(context)
    eventually(
        lambda: faults.reported_failing(world.run, what),
        within=10,
        what=f"/health reporting the {what} as failing",
    )


@then("{name:Name} is told the platform is unavailable")
def told_unavailable(context: Context, name: str) -> None:
    reply = world_of(context).reply_to(name)
    assert reply.status == 503, f"{name} should be told 503, unavailable: {reply.describe()}"
    assert reply.error == "unavailable", f"expected the error 'unavailable': {reply.describe()}"


@when("{viewer:Name}'s page reconnects")
def page_reconnects(context: Context, viewer: str) -> None:
    world = world_of(context)
    watcher = world.viewer(viewer)

    def reconnected() -> None:
        outcome = world.call(watcher.reconnect(world.run.pages))
        assert isinstance(outcome, Watching), f"{viewer}'s page could not reconnect: {outcome}"

    eventually(reconnected, within=15, every=0.25, what=f"{viewer}'s page reconnecting")
