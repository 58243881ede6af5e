"""Reading py-spy's collapsed stacks."""

from support.tools.profile import self_time, top

RAW = (
    "<module> (a.py:1);run (a.py:5);select (selectors.py:468) 60\n"
    "<module> (a.py:1);run (a.py:5);send (hub.py:90) 30\n"
    "<module> (a.py:1);send (hub.py:90) 10\n"
    "garbage line\n"
)


def test_samples_count_against_the_innermost_frame() -> None:
    assert self_time(RAW) == {"select (selectors.py:468)": 60, "send (hub.py:90)": 40}


def test_top_gives_each_frame_its_share() -> None:
    assert top(RAW, 1) == " 60.0%  select (selectors.py:468)"
