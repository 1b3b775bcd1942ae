"""The collector pause around a plan: no collection inside, nothing lost after."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from sageconnect.gcpause import paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    if was:
        gc.enable()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_no_collection_inside_and_the_collector_back_after_an_error() -> None:
    gc.enable()
    inside: list[bool] = []

    def fail() -> None:
        with paused():
            inside.append(gc.isenabled())
            raise ValueError

    with pytest.raises(ValueError):
        fail()
    assert inside == [False]
    assert gc.isenabled()


def test_an_inner_pause_does_not_enable_the_collector_early() -> None:
    gc.enable()
    with paused():
        with paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_caller_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing frozen on the caller's behalf


def test_a_cycle_made_in_a_pause_is_collected_when_the_next_one_begins() -> None:
    gc.enable()
    with paused():
        made = _cycle()  # garbage at once: nothing refers to the pair
    gc.collect()
    assert made() is not None  # frozen with what the pause made
    with paused():
        assert made() is None


def test_what_a_pause_keeps_is_frozen_and_freed_by_reference_counting() -> None:
    gc.enable()
    with paused():
        kept = [Node() for _ in range(1000)]
        watch = weakref.ref(kept[0])
    assert gc.get_freeze_count() >= 1000  # the next collections skip them
    del kept
    assert watch() is None
