"""Run a case in-process through ``lift3d.cli.main`` (torch is imported once), or in a child process for the few
inputs that kill the interpreter, and check its outcome."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .cases import Case

MAX_LINE = 500  # an error line longer than this is not one line a user reads


WALL_FACTOR = float(os.environ.get("LIFT3D_BADINPUT_WALL_FACTOR", "6"))
"""A case may take ``seconds`` of CPU time and ``WALL_FACTOR`` times that of wall-clock time: the bound is on CPU
time so that a busy machine does not fail cases, and the wall-clock alarm catches a run that waits forever."""


class CaseTimeout(BaseException):
    """Raised by the alarms when a case runs past its bound (BaseException: no ``except Exception`` eats it)."""


@dataclass
class Outcome:
    """What one run did: exit code (None when it crashed or hung), CPU seconds, the uncaught exception if any, and
    for a run in a child process its stdout and stderr (None: the caller captured them)."""

    code: int | None
    seconds: float
    crash: str | None = None
    timed_out: bool = False
    out: str | None = None
    err: str | None = None


def invoke_isolated(argv: list[str], seconds: float, cwd: Path) -> Outcome:
    """``lift3d.cli.main(argv)`` in a child Python: a segfault there fails the case instead of the test session."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = "import sys; from lift3d.cli import main; main(sys.argv[1:])"
    try:
        proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True,
                              timeout=seconds * WALL_FACTOR)
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, seconds * WALL_FACTOR, f"hung: {exc}", timed_out=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode < 0:
        return Outcome(None, cpu, f"killed by signal {-proc.returncode}", out=proc.stdout, err=proc.stderr)
    crash = proc.stderr if proc.returncode == 1 and "Traceback" in proc.stderr else None
    return Outcome(None if crash else proc.returncode, cpu, crash, out=proc.stdout, err=proc.stderr)


def invoke(argv: list[str], seconds: float) -> Outcome:
    """``lift3d.cli.main(argv)``, interrupted after ``seconds`` of CPU time or ``WALL_FACTOR * seconds`` of wall
    time; stdout and stderr are left to the caller to capture."""
    from lift3d.cli import main

    def alarm(signum, frame):  # noqa: ARG001
        kind = "CPU" if signum == signal.SIGPROF else "wall-clock"
        raise CaseTimeout(f"still running after the {kind} time bound")

    old = {sig: signal.signal(sig, alarm) for sig in (signal.SIGALRM, signal.SIGPROF)}
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR)
    t0 = time.process_time()
    try:
        main(argv)
        return Outcome(0, time.process_time() - t0)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return Outcome(code, time.process_time() - t0)
    except CaseTimeout:
        return Outcome(None, time.process_time() - t0, "hung: " + traceback.format_exc(limit=-3), timed_out=True)
    except Exception:  # the real CLI would print this traceback and exit 1
        return Outcome(None, time.process_time() - t0, traceback.format_exc(limit=-3))
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in old.items():
            signal.signal(sig, handler)


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file and folder under ``roots`` -> its SHA-256 (``"dir"`` for folders)."""
    found: dict[str, str] = {}
    for root in roots:
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_symlink() or not p.is_file():
                found[str(p)] = "dir" if p.is_dir() else "other"
            else:
                found[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def problems(case: Case, outcome: Outcome, out: str, err: str, before: dict[str, str], after: dict[str, str],
             d: Path) -> list[str]:
    """Everything about a run that differs from the case's expectation (empty: the case passes)."""
    found = []
    if outcome.crash:
        found.append(f"uncaught exception (exit 1 with a traceback):\n{outcome.crash}")
    elif outcome.code != case.code:
        found.append(f"exit code {outcome.code}, expected {case.code}")
    if "Traceback" in err or "Traceback" in out:
        found.append("a traceback was printed")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if case.code == 2 and case.usage:
        if "Error" not in err:
            found.append(f"no usage error on stderr: {err!r}")
    elif case.code == 2:
        if len(lines) != 1 or not lines[0].startswith("lift3d: error: "):
            found.append(f"expected one 'lift3d: error:' line on stderr, got {len(lines)} line(s): {err[:800]!r}")
        elif not re.search(case.message, lines[0], re.IGNORECASE):
            found.append(f"the error line does not match {case.message!r}: {lines[0][:300]!r}")
        elif len(lines[0]) > MAX_LINE:
            found.append(f"the error line is {len(lines[0])} characters long: {lines[0][:200]!r}...")
    elif any(ln.startswith("lift3d: error") for ln in lines):
        found.append(f"an error was printed: {err[:500]!r}")
    outputs = str(d / "out")
    changed = sorted(k for k in before if after.get(k) != before[k] and not (case.code == 0 and k.startswith(outputs)))
    if changed:
        found.append(f"input files changed or removed: {changed}")
    new = sorted(set(after) - set(before))
    if case.code != 0 and new:
        found.append(f"a failed run left files behind: {new}")
    stray = [p for p in new if not p.startswith(outputs)]
    if case.code == 0 and stray:
        found.append(f"files written outside the output folder: {stray}")
    if case.code == 0 and case.creates and not (d / case.creates).is_file():
        found.append(f"{case.creates} was not written")
    if outcome.seconds > case.seconds:
        found.append(f"took {outcome.seconds:.1f} s of CPU time, bound {case.seconds:.0f} s")
    return found
