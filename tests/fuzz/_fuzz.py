"""What the fuzz targets share: byte strategies (random bytes and mutations of a valid file), a per-example CPU-time
bound, and the one rule every reader must keep: return normally or raise a :class:`~lift3d.errors.Lift3DError`.

Deterministic by default (the same examples every run, so CI is stable); ``LIFT3D_FUZZ_EXAMPLES=N`` runs N random
examples per target instead, for a longer local fuzzing session.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from lift3d.errors import Lift3DError

EXAMPLES = int(os.environ.get("LIFT3D_FUZZ_EXAMPLES", "0"))
SECONDS_PER_EXAMPLE = 5.0  # CPU seconds one reader call may take before it counts as a hang


def fuzz_settings(examples: int) -> settings:
    """``examples`` derandomized examples (or ``LIFT3D_FUZZ_EXAMPLES`` random ones), no deadline (the CPU bound
    below replaces it), no example database written into the repository. The derandomized run does not shrink a
    failing example (a known failure then costs no time); a ``LIFT3D_FUZZ_EXAMPLES`` run shrinks it for a report."""
    phases = list(Phase) if EXAMPLES else [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
    return settings(max_examples=EXAMPLES or examples, derandomize=not EXAMPLES, deadline=None, database=None,
                    phases=phases, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Hang(Exception):
    """A reader ran past :data:`SECONDS_PER_EXAMPLE` of CPU time."""


@contextmanager
def cpu_bound(seconds: float = SECONDS_PER_EXAMPLE) -> Iterator[None]:
    def alarm(signum, frame):  # noqa: ARG001
        raise Hang(f"still running after {seconds} s of CPU time")

    old = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def must_succeed_or_refuse(read: Callable[[], object]) -> object | None:
    """Call ``read()``: a result, or a Lift3DError (a clean refusal), is fine; any other exception or a hang fails
    the example (hypothesis then shrinks it to a small input)."""
    try:
        with cpu_bound():
            return read()
    except Lift3DError as exc:
        message = str(exc)
        assert "\n" not in message.strip() and len(message) < 1000, f"refusal is not one short line: {message!r}"
        return None


def isolated(run: Callable[[], None], last_input: Path | None = None, timeout: float = 600.0) -> None:
    """Run ``run()`` (a hypothesis test) in a forked child process, so that a reader that kills the interpreter (a
    segfault in a native library) fails this one test, naming the input it was reading (``last_input``: the file
    each example is written to), instead of ending the whole test session."""
    with tempfile.TemporaryDirectory(prefix="lift3d_fuzz.") as tmp:
        report = Path(tmp) / "report.txt"
        pid = os.fork()
        if pid == 0:  # the child: run the test, leave any failure in the report, never return into pytest
            code = 0
            try:
                run()
            except BaseException:
                report.write_text(traceback.format_exc())
                code = 1
            finally:
                os._exit(code)
        deadline = time.monotonic() + timeout
        while not (done := os.waitpid(pid, os.WNOHANG))[0]:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError(f"the fuzz target ran past {timeout:.0f} s")
            time.sleep(0.02)
        status = done[1]
        if os.WIFSIGNALED(status):
            data = last_input.read_bytes() if last_input is not None and last_input.exists() else b"?"
            raise AssertionError(f"the reader killed the interpreter with signal {os.WTERMSIG(status)} on the input "
                                 f"{last_input}: {data[:600]!r}")
        if os.WEXITSTATUS(status):
            raise AssertionError("the fuzz target failed:\n" + (report.read_text() if report.exists() else "?"))


# ------------------------------------------------------------------------------------------------ strategies
INTERESTING = [b"0", b"-1", b"nan", b"inf", b"-inf", b"1e308", b"99999999999999999999", b"4294967296", b"", b"\x00",
               b"\xff" * 8, b"abc"]
NUMBER = re.compile(rb"-?\d+(\.\d+)?(e-?\d+)?")


@st.composite
def mutated(draw, seed: bytes, max_ops: int = 4, span: int | None = None) -> bytes:
    """``seed`` with 1..``max_ops`` edits: flip / set a byte, insert or delete a run, truncate, duplicate a chunk, or
    (in text) replace a number by an interesting value (0, -1, nan, 1e308, a huge integer...). ``span``: edit only
    the first ``span`` bytes (a file's header)."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "duplicate", "number"]))
        n = len(data) if span is None else min(span, len(data))
        at = draw(st.integers(0, max(n - 1, 0)))
        if op == "flip" and n:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and n:
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("-"), ord("9"), ord("\n")]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete" and n:
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "duplicate" and n:
            chunk = data[at:at + draw(st.integers(1, 256))]
            data[at:at] = chunk * draw(st.integers(1, 4))
        elif op == "number":
            found = list(NUMBER.finditer(bytes(data[:n])))
            if found:
                m = found[draw(st.integers(0, len(found) - 1))]
                data[m.start():m.end()] = draw(st.sampled_from(INTERESTING))
    return bytes(data)


def inputs(*seeds: bytes, max_random: int = 512) -> st.SearchStrategy[bytes]:
    """Random bytes, or a mutation of one of the valid ``seeds`` (mutations are three times as likely)."""
    return st.one_of(st.binary(max_size=max_random), *([st.one_of(*[mutated(s) for s in seeds])] * 3))
