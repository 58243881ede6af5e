"""Visitors: people who use the API without (valid) credentials."""

from behave import then, when
from behave.runner import Context

from support.identity import visitor_token
from support.world import World


@when("a visitor with {credentials} asks for the live streams")
def visitor_lists_streams(context: Context, credentials: str) -> None:
    world: World = context.world
    token = visitor_token(world.run.tokens, credentials)
    world.replies["visitor"] = world.call(world.run.api.streams(token, status="live"))


@then("the visitor is refused as not signed in")
def visitor_refused(context: Context) -> None:
    reply = context.world.reply_to("visitor")
    assert reply.status == 401, f"the visitor should be refused with 401: {reply.describe()}"
    assert reply.error == "unauthorized", f"expected the error 'unauthorized': {reply.describe()}"
