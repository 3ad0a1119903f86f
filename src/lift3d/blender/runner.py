"""Find Blender and run the shipped scene script (:mod:`lift3d.blender.scene_script`) in a separate process.

Blender is looked for in this order (:func:`find_blender`):

1. ``$LIFT3D_BLENDER``: a ``blender`` executable, or a Python interpreter (its name starts with ``python``) that
   can ``import bpy`` (for example a separate virtual environment holding the ``bpy`` wheel);
2. the ``bpy`` module in this Python (``pip install 'lift3d[blender]'``): the script runs in a subprocess of this
   interpreter, so a crash inside Blender cannot take lift3d down;
3. ``blender`` on ``PATH`` (Debian: ``apt install blender python3-numpy``), run as
   ``blender -b --factory-startup --python-exit-code 1 -P scene_script.py -- ARGS``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from lift3d.errors import Lift3DError

ENV_VAR = "LIFT3D_BLENDER"
SUMMARY = "LIFT3D_SUMMARY "
ERROR = "LIFT3D_ERROR "
MODEL_FORMATS = (".glb", ".gltf", ".obj", ".ply", ".stl")
SCENE_FORMATS = {".blend": "--blend", ".fbx": "--fbx"}  # what the script writes, by the output's extension
HOW_TO_GET = ("install the bpy module (pip install 'lift3d[blender]', Python 3.11, ~370 MB) or Debian's Blender "
              f"(apt install blender python3-numpy), or set {ENV_VAR} to a blender executable or to a Python with bpy")


class BlenderError(Lift3DError):
    """Blender is missing, failed, or did not finish in time."""


@dataclass(frozen=True)
class Backend:
    """How to start Blender: ``kind`` is ``"bpy"`` (a Python with the bpy module) or ``"blender"`` (the program)."""

    kind: str
    executable: str

    def command(self, script: str | os.PathLike, args: list[str]) -> list[str]:
        """The command line running ``script`` with ``args`` (given to the script after ``--``)."""
        if self.kind == "bpy":
            return [self.executable, str(script), "--", *args]
        return [self.executable, "-b", "--factory-startup", "--python-exit-code", "1", "-P", str(script), "--", *args]

    def describe(self) -> str:
        return f"the bpy module of {self.executable}" if self.kind == "bpy" else self.executable


def script_text() -> str:
    """The Blender-side script's source (what ``--script-only`` writes)."""
    return files("lift3d.blender").joinpath("scene_script.py").read_text(encoding="utf-8")


def script_path() -> Path:
    return Path(str(files("lift3d.blender").joinpath("scene_script.py")))


def _from_env(value: str) -> Backend:
    exe = shutil.which(value) or value
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        raise BlenderError(f"{ENV_VAR}={value} is not an executable file; point it at a blender program or at a "
                           "Python that has the bpy module")
    kind = "bpy" if Path(exe).name.lower().startswith("python") else "blender"
    return Backend(kind, exe)


def has_bpy() -> bool:
    """Whether this Python has the bpy module (looked up, not imported: importing it starts Blender)."""
    return importlib.util.find_spec("bpy") is not None


def find_blender() -> Backend:
    """The Blender to use (see the module docstring); raises :class:`BlenderError` saying how to get one."""
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        return _from_env(value)
    if has_bpy():
        return Backend("bpy", sys.executable)
    exe = shutil.which("blender")
    if exe:
        return Backend("blender", exe)
    raise BlenderError(f"Blender not found: {HOW_TO_GET}")


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s whole process group (it leads a session of its own) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _failure(proc: subprocess.CompletedProcess, backend: Backend) -> str:
    """One line saying why the script failed: its own error line, else Blender's last error-looking line."""
    lines = [ln.strip() for ln in (proc.stdout + "\n" + proc.stderr).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith(ERROR):
            return ln[len(ERROR):]
    named = [ln for ln in lines if "Error" in ln.split(":")[0]]
    last = (named or lines or [f"exit code {proc.returncode}"])[-1]
    return f"Blender ({backend.describe()}) failed: {last[:300]}"


def run_scene(model: str | os.PathLike, blend: str | os.PathLike, render: str | os.PathLike | None = None,
              size: int = 512, samples: int = 32, timeout: float = 600.0, up: str = "Y",
              backend: Backend | None = None) -> dict:
    """Run the scene script on ``model``, writing ``blend`` (a .blend scene, or an FBX file when it ends in .fbx;
    see :data:`SCENE_FORMATS`) and the PNG ``render``; returns the script's summary (a dict: ``objects``,
    ``materials`` with each Base Color's source and image size, ``texture_linked``, ``seconds``...). ``up`` is the
    up axis (``"Y"`` or ``"Z"``) of a .ply or .stl model. Writes where it is told: callers wanting atomic outputs
    pass temporary paths."""
    backend = backend or find_blender()
    flag = SCENE_FORMATS.get(Path(blend).suffix.lower(), "--blend")
    args = [str(Path(model).resolve()), flag, str(Path(blend).resolve()), "--size", str(size),
            "--samples", str(samples), "--up", up]
    if render is not None:
        args += ["--render", str(Path(render).resolve())]
    cmd = backend.command(script_path(), args)
    try:  # a session of its own, so that a timeout or Ctrl-C stops Blender and anything it started
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", start_new_session=True)
    except OSError as exc:
        raise BlenderError(f"cannot start {backend.describe()}: {exc.strerror or exc}") from exc
    with proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise BlenderError(f"Blender did not finish within {timeout:g} s (raise --timeout)") from exc
        except BaseException:
            _kill_group(proc)
            raise
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    summaries = [ln for ln in stdout.splitlines() if ln.startswith(SUMMARY)]
    if proc.returncode != 0 or not summaries:
        raise BlenderError(_failure(done, backend))
    summary = json.loads(summaries[-1][len(SUMMARY):])
    summary["backend"] = backend.kind
    return summary
