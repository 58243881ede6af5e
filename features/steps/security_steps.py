# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Security: forged calls of the ingest, and secrets kept out of the servers' logs."""

from behave import then, when
from behave.runner import Context

from support.logs import lines_with
from support.world import world_of


@when("someone forges the ingest's notice that {owner:Name} stopped")
def forged_end(context: Context, owner: str) -> None:
    world = world_of(context)
    form = {"name": world.stream_of(owner).stream_id, "clientid": "1", "call": "publish_done"}
    world.replies["the forger"] = world.call(world.run.api.ingest_call("done", form))


@then("the forger is refused")
def forger_refused(context: Context) -> None:
    reply = world_of(context).reply_to("the forger")
    assert reply.status == 403, (
        f"a call without the ingest's token should be refused: {reply.describe()}"
    )


@then("no server's log holds {owner:Name}'s stream key")
def key_in_no_log(context: Context, owner: str) -> None:
    world = world_of(context)
    found = lines_with(world.run.embedded(), world.stream_of(owner).stream_key)
    assert not found, "the stream key is in the logs:\n" + "\n".join(found[:10])
