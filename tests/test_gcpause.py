"""The collector pause around a plan: no collection inside, nothing lost after."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from sageconnect.gcpause import paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
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


def test_overlapping_pauses_in_two_threads_end_with_the_last() -> None:
    gc.enable()
    begun, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused():
            begun.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with paused():
        thread.start()
        assert begun.wait(10)
    assert not gc.isenabled()  # the other thread's pause goes on
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_caller_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()


def test_a_cycle_made_in_a_pause_is_collected_after_it() -> None:
    gc.enable()
    with paused():
        made = _cycle()  # garbage at once: nothing refers to the pair
        assert made() is not None
    gc.collect()
    assert made() is None
