# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""Visitors: people who use the API without (valid) credentials."""

from behave import then, when
from behave.runner import Context

from support.clients.api import STREAM_ACTIONS
from support.harness.identity import visitor_token
from support.harness.world import world_of


@when("a visitor with {credentials} asks for the live streams")
def visitor_lists_streams(context: Context, credentials: str) -> None:
    world = world_of(context)
    token = visitor_token(world.run.tokens, credentials)
    world.replies["visitor"] = world.call(world.run.api.streams(token, status="live"))


@then("the visitor is refused as not signed in")
def visitor_refused(context: Context) -> None:
    reply = world_of(context).reply_to("visitor")
    assert reply.status == 401, f"the visitor should be refused with 401: {reply.describe()}"
    assert reply.error == "unauthorized", f"expected the error 'unauthorized': {reply.describe()}"


@when("a visitor with {credentials} tries to create a stream")
def visitor_creates(context: Context, credentials: str) -> None:
    world = world_of(context)
    token = visitor_token(world.run.tokens, credentials)
    world.replies["visitor"] = world.call(world.run.api.create_stream(token, {"title": "mine"}))


@when("a visitor with {credentials} tries to {action:StreamAction} {owner:Name}'s stream")
def visitor_acts_on_stream(context: Context, credentials: str, action: str, owner: str) -> None:
    world = world_of(context)
    token = visitor_token(world.run.tokens, credentials)
    act = STREAM_ACTIONS[action](world.run.api)
    world.replies["visitor"] = world.call(act(token, world.stream_of(owner).stream_id))
