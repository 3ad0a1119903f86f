"""No hangs: a failing data loader thread, data generation worker or evaluation read ends the whole command promptly
with one `lift3d: error:` line naming the file (exit code 2), instead of a worker traceback and a wait forever.

The CLI runs in a subprocess with a timeout, so a regression shows as a test failure, not a stuck test run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lift3d.errors import DatasetError
from lift3d.train.prefetch import prefetch

# A healthy failure takes a few seconds (mostly importing torch); a hang never ends. Generous, because a machine
# busy with a training run can starve these subprocesses tenfold.
TIMEOUT_S = 300
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL every process of ``proc``'s group (it was started in a new session: its forked workers too)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=TIMEOUT_S)


def run_group(cmd: list[str], timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own process group; a hang fails the test through ``timeout`` (TimeoutExpired), and no
    process of the group outlives the call."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        kill_group(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def cli_subprocess(*args, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``lift3d ARGS`` in a fresh interpreter (see :func:`run_group`)."""
    return run_group([sys.executable, "-m", "lift3d.cli", *map(str, args)], timeout)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single ``lift3d: error:`` line of a failed command (asserts exit code 2 and nothing else on stderr)."""
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert len(err.splitlines()) == 1 and err.startswith("lift3d: error: "), err[-2000:]
    return err


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def shape_of_split(root: Path, split: str) -> str:
    from lift3d.data.dataset import read_manifest

    return next(s["id"] for s in read_manifest(root)["shapes"] if s["split"] == split)


@pytest.fixture
def broken_copy(tiny_dataset, tmp_path) -> Path:
    root = tmp_path / "ds"
    shutil.copytree(tiny_dataset, root)
    return root


# ---------------------------------------------------------------- the prefetch thread itself


def test_prefetch_yields_in_order_and_reraises_a_loader_error():
    def make(job):
        if job == 3:
            raise DatasetError("corrupt image shapes/x/view_00.png")
        return job * 10

    got = []
    with pytest.raises(DatasetError, match="view_00.png"):
        for item in prefetch(make, range(6)):
            got.append(item)
    assert got == [0, 10, 20]


def test_prefetch_names_the_job_of_an_unexpected_error_and_stops_when_the_consumer_does():
    with pytest.raises(DatasetError, match=r"loading batch 1 failed: ZeroDivisionError") as info:
        list(prefetch(lambda j: 1 / (1 - j), range(3)))
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    before = threading.active_count()
    gen = prefetch(lambda j: j, range(10**9), depth=1)  # endless producer, blocked on a full queue
    assert next(gen) == 0
    gen.close()  # the consumer stops (e.g. the training step raised)
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before  # the loading thread ended instead of waiting forever


# ---------------------------------------------------------------- the commands, on broken datasets


def test_train_with_a_deleted_shape_folder_fails_at_once(broken_copy, tmp_path):
    victim = shape_of_split(broken_copy, "train")
    shutil.rmtree(broken_copy / "shapes" / victim)
    proc = cli_subprocess("train", "configs/tiny.yaml", "--data", broken_copy, "--out", tmp_path / "run", "--quiet")
    err = one_line_error(proc)
    assert "missing" in err and str(broken_copy / "shapes" / victim) in err


def test_train_with_a_truncated_view_fails_promptly_from_the_loading_thread(broken_copy, tmp_path):
    victim = shape_of_split(broken_copy, "train")
    truncate(broken_copy / "shapes" / victim / "view_00.png")  # read by the first batch (views 0..V-1)
    proc = cli_subprocess("train", "configs/tiny.yaml", "--data", broken_copy, "--out", tmp_path / "run", "--quiet")
    err = one_line_error(proc)
    assert f"corrupt image {broken_copy / 'shapes' / victim / 'view_00.png'}" in err and "truncated" in err
    assert not (tmp_path / "run" / "last.safetensors").exists()  # it stopped in the first epoch


def test_evaluate_on_a_truncated_view_or_deleted_folder_fails_promptly(broken_copy, tiny_checkpoint):
    victim = shape_of_split(broken_copy, "test")
    truncate(broken_copy / "shapes" / victim / "view_00.png")
    err = one_line_error(cli_subprocess("evaluate", tiny_checkpoint, broken_copy, "--no-fscore", "--quiet"))
    assert str(broken_copy / "shapes" / victim / "view_00.png") in err
    shutil.rmtree(broken_copy / "shapes" / victim)
    err = one_line_error(cli_subprocess("evaluate", tiny_checkpoint, broken_copy, "--no-fscore", "--quiet"))
    assert str(broken_copy / "shapes" / victim) in err


def test_a_data_generation_worker_that_dies_ends_the_run(tmp_path):
    """A worker process killed mid-shape (out of memory, a native crash) used to leave multiprocessing.Pool waiting
    forever for its result; now the run stops with one line, keeping the finished shapes for a resume."""
    script = textwrap.dedent(f"""
        import os, sys
        import lift3d.data.generate as gen
        from lift3d.cli import main
        real = gen.write_shape
        def dying(task):
            if task.shape_id == "mug_0002":
                os._exit(9)  # the worker vanishes without a word, like an OOM kill
            return real(task)
        gen.write_shape = dying  # inherited by the forked workers
        main(["data", "generate", "--out", {str(tmp_path / "ds")!r}, "--categories", "mug", "-n", "4",
              "--views", "1", "--image-size", "16", "-j", "2", "--quiet"])
    """)
    err = one_line_error(run_group([sys.executable, "-c", script]))
    assert "worker process died" in err and "re-run the same command to resume" in err
    assert not (tmp_path / "ds" / "manifest.json").exists()
