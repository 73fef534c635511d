"""The training gate: at most ``limit`` sessions train at once, the rest wait in line with a
place (a classroom on one server), and Stop leaves the line at once."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from workbench.errors import WorkbenchError
from workbench.training.session import TrainingGate, TrainingSession, ordinal

TIMEOUT = 30.0


def wait_for(predicate, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class Blocking:
    """An experiment that runs until released (or stopped) and records who ran at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.peak = self.calls = 0
        self.release = {}

    def target(self, name):
        release = self.release.setdefault(name, threading.Event())

        def run(stop_event, pause_event, tracker_callbacks, callbacks, **kwargs):
            with self.lock:
                self.calls += 1
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                while not (stop_event.is_set() or release.is_set()):
                    time.sleep(0.005)
            finally:
                with self.lock:
                    self.now -= 1
            return None, SimpleNamespace(stopped=stop_event.is_set()), {}
        return run


def test_gate_admits_up_to_its_limit_then_queues_first_come_first_served():
    gate = TrainingGate(limit=2)
    a, b, c, d = (gate.join() for _ in range(4))
    assert [gate.position(t) for t in (a, b, c, d)] == [0, 0, 1, 2]
    assert (gate.running, gate.waiting) == (2, 2)
    assert gate.wait(a, timeout=0) and not gate.wait(c, timeout=0.05)
    gate.leave(a)  # a slot frees: the head of the line moves in, the rest move up
    assert [gate.position(t) for t in (b, c, d)] == [0, 0, 1]
    gate.withdraw(d)  # leaving the line
    assert gate.position(d) is None and gate.waiting == 0
    gate.withdraw(b)  # an admitted ticket keeps its slot
    assert gate.position(b) == 0
    gate.leave(b)
    gate.leave(b)  # idempotent
    assert (gate.running, gate.waiting) == (1, 0)
    e = gate.join()
    assert gate.position(e) == 0


def test_gate_wait_returns_when_admitted_or_cancelled():
    gate = TrainingGate(limit=1)
    first, second = gate.join(), gate.join()
    cancel = threading.Event()
    got = []
    waiter = threading.Thread(target=lambda: got.append(gate.wait(second, cancel=cancel)))
    waiter.start()
    gate.leave(first)
    waiter.join(TIMEOUT)
    assert got == [True] and gate.position(second) == 0
    third = gate.join()
    cancel.set()
    assert gate.wait(third, cancel=cancel) is False and gate.position(third) == 1


def test_gate_needs_a_positive_limit():
    with pytest.raises(WorkbenchError, match="at least 1"):
        TrainingGate(limit=0)


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                     (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
                                     (22, "22nd"), (103, "103rd")])
def test_ordinal(n, text):
    assert ordinal(n) == text


def test_sessions_beyond_the_limit_queue_with_their_place_in_line():
    gate, work = TrainingGate(limit=2), Blocking()
    sessions = [TrainingSession(target=work.target(i), gate=gate) for i in range(4)]
    for s in sessions:
        s.start()
    wait_for(lambda: work.calls == 2, "two runs to start")
    assert [s.state for s in sessions] == ["running", "running", "queued", "queued"]
    assert [s.position for s in sessions] == [None, None, 1, 2]
    assert sessions[3].queue_note() == ("Waiting: 2nd in line (2 trainings run at a time on "
                                        "this server)")
    assert sessions[0].queue_note() == ""
    # the first run ends: the 1st in line starts, the 2nd moves up
    work.release[0].set()
    assert sessions[0].join(TIMEOUT) and sessions[0].state == "finished"
    wait_for(lambda: sessions[2].state == "running", "the next in line to start")
    assert sessions[3].position == 1
    # Stop while waiting: leaves the line at once, never trains
    assert sessions[3].stop(timeout=TIMEOUT)
    assert sessions[3].state == "stopped" and sessions[3].position is None
    assert gate.waiting == 0 and work.calls == 3
    for s in sessions:
        s.stop(timeout=TIMEOUT)
    assert gate.running == 0 and work.peak == 2


def test_many_sessions_never_exceed_the_limit():
    gate, work = TrainingGate(limit=2), Blocking()
    sessions = [TrainingSession(target=work.target(i), gate=gate) for i in range(8)]
    for s in sessions:
        s.start()
    for i, s in enumerate(sessions):  # release them in order; the line drains
        wait_for(lambda i=i: work.calls > i, f"run {i} to start")
        work.release[i].set()
        assert s.join(TIMEOUT) and s.state == "finished"
    assert work.calls == 8 and work.peak == 2
    assert (gate.running, gate.waiting) == (0, 0)


def test_reset_of_a_queued_session_frees_its_place():
    gate, work = TrainingGate(limit=1), Blocking()
    first, second = (TrainingSession(target=work.target(i), gate=gate) for i in range(2))
    first.start()
    second.start()
    assert second.state == "queued" and second.position == 1
    assert second.reset(timeout=TIMEOUT) and second.state == "idle"
    assert gate.waiting == 0
    work.release[0].set()
    assert first.join(TIMEOUT) and gate.running == 0


def test_a_session_without_gate_starts_at_once():
    work = Blocking()
    session = TrainingSession(target=work.target(0))
    session.start()
    wait_for(lambda: work.calls == 1, "the run to start")
    assert session.state == "running" and session.position is None
    session.stop(timeout=TIMEOUT)
    assert session.state == "stopped"
