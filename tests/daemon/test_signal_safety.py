"""Stop signals at any instant: the handler never waits on a lock the main
thread holds (CI once caught SIGTERM inside ``Event.wait`` and hung)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# A child process: the daemon's own handlers, its own wait for a stop and the
# process-wide stop request, hammered by SIGTERM from another thread while the
# main thread goes through them as fast as it can (the worst timing there is).
_CHILD = textwrap.dedent(
    """
    import os, queue, signal, sys, threading, time
    from sageconnect import shutdown
    from sageconnect.daemon import service

    stop = queue.SimpleQueue()
    got = []
    service._signals(stop, got)
    done = threading.Event()
    sys.setswitchinterval(1e-5)  # the shooter gets the GIL back at once

    def shoot():
        for _ in range(3000):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.0001)
        done.set()

    threading.Thread(target=shoot, daemon=True).start()
    seen = 0
    rounds = 0
    while not done.is_set():  # the wait the daemon does (it blocks), and a poll
        rounds += 1
        seen += service._stopped(stop, 0.0005 if rounds % 2 else 0.0)
        shutdown.request()
        assert shutdown.requested()
    time.sleep(0.2)  # the last signals handled
    while service._stopped(stop, 0.0):
        seen += 1
    print(len(got), seen)
    """
)


def test_a_storm_of_stop_signals_never_hangs_and_each_is_seen() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    handled, seen = map(int, proc.stdout.split())
    assert handled > 0  # signals that arrive together may be handled once
    assert seen == handled  # every handled signal reached the stop wait
