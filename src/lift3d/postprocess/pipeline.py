"""Refinement as a pipeline: named steps, each a function mesh -> mesh, composed from a string or from Python.

Grammar (the CLI's ``--post``): comma-separated steps, each ``name[:arg[:arg]]``; an empty argument takes its
default (``remesh::5``). Names and choices are case-insensitive. :func:`describe` lists the steps::

    clean,specks:0.01,fill,smooth:taubin:10,decimate:5000,remesh,watertight,normals

Python::

    steps = parse_post("fill,smooth:taubin:10,decimate:5000")   # list[Step], validated
    mesh = apply_post(mesh, steps)                              # or apply_post(mesh, "fill,smooth")
    mesh = Step("decimate", (0.25,))(mesh)                      # one step: keep a quarter of the faces
    result = run_post(mesh, steps)                              # result.mesh, result.notes (one per step)

Every step returns a new mesh (vertices ``(V, 3)`` float64, faces ``(F, 3)`` int64) and a one-line note
("watertight: voxel remesh at 64 ..."). Bad arguments and bad meshes raise :class:`lift3d.errors.InputError`
naming the step. Steps that start with a clean-up (``clean``, ``fill``, ``watertight``) repair NaN vertices,
duplicates and degenerate faces; the others refuse such meshes and say to put ``clean`` first.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import trimesh

from lift3d.errors import InputError, Lift3DError
from lift3d.limits import MESH_FACES, check_number
from lift3d.postprocess.remesh import MAX_ITERATIONS, isotropic_remesh
from lift3d.postprocess.repair import (
    _check_mesh,
    boundary_edge_count,
    cleanup,
    fill_holes,
    remove_small_components,
    repair_watertight,
)
from lift3d.postprocess.simplify import MIN_FACES, decimate
from lift3d.postprocess.smooth import laplacian_smooth, taubin_smooth

MAX_STEPS = 64  # steps in one --post string
MAX_SMOOTH_ITERATIONS = 1000
MAX_WATERTIGHT_RES = 256  # 256^3 distance queries: ~17 M cells, ~1 GB of grids; 512^3 would be 8x that
DEFAULT_SMOOTH_ITERATIONS = {"taubin": 10, "laplacian": 5}

Converter = Callable[[object, str], object]


# ---------------------------------------------------------------- argument types


def _number(raw: object, what: str, integer: bool) -> float:
    """A string or number -> float; ``integer`` refuses a fractional value. Booleans are refused."""
    kind = "an integer" if integer else "a number"
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | np.integer | np.floating):
        raise InputError(f"{what} must be {kind}, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{what} must be {kind}, got '{raw}'") from None
    if integer and not (math.isfinite(value) and value.is_integer()):
        raise InputError(f"{what} must be {kind}, got '{raw}'")
    return value


def _integer(lo: int, hi: int) -> Converter:
    def convert(raw: object, what: str) -> int:
        value = int(_number(raw, what, integer=True))
        check_number(value, what, lo, hi)
        return value
    return convert


def _fraction(raw: object, what: str) -> float:
    """A number in [0, 1)."""
    value = _number(raw, what, integer=False)
    check_number(value, what, 0, 1, hi_open=True)
    return value


def _positive(raw: object, what: str) -> float:
    """A finite number > 0."""
    value = _number(raw, what, integer=False)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{what} must be a positive number, got '{raw}'")
    return value


def _choice(*options: str) -> Converter:
    def convert(raw: object, what: str) -> str:
        value = str(raw).strip().lower()
        if value not in options:
            raise InputError(f"{what} must be one of {', '.join(options)}, got '{raw}'")
        return value
    return convert


def _faces_or_ratio(raw: object, what: str) -> int | float:
    """``N >= 4`` (a face count, integer) or ``0 < R < 1`` (the fraction of faces to keep)."""
    value = _number(raw, what, integer=False)
    if math.isfinite(value) and 0.0 < value < 1.0:
        return value
    if not (math.isfinite(value) and value.is_integer() and value >= MIN_FACES):
        raise InputError(f"{what} must be a face count >= {MIN_FACES} or a ratio of faces to keep in (0, 1), "
                         f"got '{raw}'")
    check_number(int(value), what, MIN_FACES, MESH_FACES)
    return int(value)


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Param:
    """One step argument: ``convert(raw, what)`` turns a string or number into the typed value (or raises
    InputError); ``default`` is a value or a function of the arguments before it; ``required`` has none."""

    name: str
    convert: Converter
    default: object = None
    required: bool = False


@dataclass(frozen=True)
class StepDef:
    """A registered step. ``run(mesh, *args) -> (mesh, detail)``; ``repairs``: accepts NaN vertices and
    degenerate faces (the step starts with a clean-up)."""

    name: str
    usage: str
    summary: str
    library: str
    params: tuple[Param, ...]
    run: Callable[..., tuple[trimesh.Trimesh, str]]
    repairs: bool = False


STEPS: dict[str, StepDef] = {}


def register(name: str, usage: str, summary: str, library: str, *params: Param,
             repairs: bool = False) -> Callable[[Callable[..., tuple[trimesh.Trimesh, str]]], StepDef]:
    """Decorator adding ``run(mesh, *args) -> (mesh, detail)`` to :data:`STEPS` under ``name``."""
    def wrap(run: Callable[..., tuple[trimesh.Trimesh, str]]) -> StepDef:
        STEPS[name] = StepDef(name, usage, summary, library, params, run, repairs)
        return STEPS[name]
    return wrap


def _unknown(name: str) -> InputError:
    close = difflib.get_close_matches(name, STEPS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return InputError(f"unknown --post step '{name}'{hint}; steps: {', '.join(STEPS)}")


@dataclass(frozen=True)
class Step:
    """One configured step, callable as ``step(mesh) -> mesh``. Arguments are validated and completed with
    defaults when the step is made: ``Step("smooth", ("laplacian",)).args == ("laplacian", 5)``."""

    name: str
    args: tuple[object, ...] = field(default=())

    def __post_init__(self) -> None:
        name = str(self.name).strip().lower()
        if name not in STEPS:
            raise _unknown(str(self.name))
        defn = STEPS[name]
        raw = tuple(self.args) if isinstance(self.args, tuple | list) else (self.args,)
        if len(raw) > len(defn.params):
            takes = "no arguments" if not defn.params else f"at most {len(defn.params)} argument(s)"
            raise InputError(f"--post step '{name}' takes {takes} ({defn.usage}), got {len(raw)}")
        args: list[object] = []
        for i, param in enumerate(defn.params):
            value = raw[i] if i < len(raw) else None
            if value is None or (isinstance(value, str) and not value.strip()):
                if param.required:
                    raise InputError(f"--post step '{name}' needs its {param.name} ({defn.usage})")
                args.append(param.default(tuple(args)) if callable(param.default) else param.default)
            else:
                args.append(param.convert(value.strip() if isinstance(value, str) else value,
                                          f"--post step '{name}': {param.name}"))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", tuple(args))

    def __str__(self) -> str:
        """The step in the ``--post`` grammar; trailing arguments equal to a fixed default are left out."""
        params = STEPS[self.name].params
        shown = list(self.args)
        while shown and (shown[-1] is None or (not callable(params[len(shown) - 1].default)
                                               and shown[-1] == params[len(shown) - 1].default)):
            shown.pop()
        return ":".join([self.name, *("" if a is None else repr(a) if isinstance(a, float) else str(a)
                                      for a in shown)])

    def run(self, mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, str]:
        """Apply the step -> ``(new mesh, note)``; the note is one line starting with the step."""
        defn = STEPS[self.name]
        try:
            _check_input(mesh, defn.repairs)
            out, detail = defn.run(mesh, *self.args)
        except InputError as exc:
            raise InputError(f"--post step '{self}': {exc}") from exc
        if len(out.faces) == 0 or not np.isfinite(np.asarray(out.vertices)).all():
            raise Lift3DError(f"--post step '{self}' produced an empty or non-finite mesh")
        return out, f"{self}: {detail or f'{len(mesh.faces)} -> {len(out.faces)} faces'}"

    def __call__(self, mesh: trimesh.Trimesh) -> trimesh.Trimesh:
        return self.run(mesh)[0]


def _check_input(mesh: trimesh.Trimesh, repairs: bool) -> None:
    if not isinstance(mesh, trimesh.Trimesh):
        raise InputError(f"expected a triangle mesh (trimesh.Trimesh), got {type(mesh).__name__}")
    _check_mesh(mesh)
    MESH_FACES.check(len(mesh.faces), "mesh")
    if repairs:
        return
    if not np.isfinite(np.asarray(mesh.vertices)).all():
        raise InputError("mesh has NaN or infinite vertex coordinates (put 'clean' before this step)")
    if not mesh.area > 0:
        raise InputError("mesh has no surface area (all faces are degenerate): nothing to refine")


# ---------------------------------------------------------------- the steps


@register("clean", "clean", "drop NaN vertices, merge duplicates, drop degenerate/duplicate faces, fix winding",
          "trimesh", repairs=True)
def _clean(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, str]:
    out = cleanup(mesh)
    return out, f"{len(mesh.faces)} -> {len(out.faces)} faces, {len(mesh.vertices)} -> {len(out.vertices)} vertices"


@register("specks", "specks[:FRACTION]", "drop parts under FRACTION of the volume (area if open) (0.01); largest stays",
          "trimesh", Param("fraction", _fraction, 0.01))
def _specks(mesh: trimesh.Trimesh, fraction: float) -> tuple[trimesh.Trimesh, str]:
    out = remove_small_components(mesh, fraction)
    return out, f"dropped {len(mesh.faces) - len(out.faces)} faces, {100 * (1 - out.area / mesh.area):.2g}% of the area"


@register("fill", "fill[:RADIUS]", "close holes (only those up to RADIUS mesh units; default all)",
          "trimesh, open3d", Param("radius", _positive), repairs=True)
def _fill(mesh: trimesh.Trimesh, radius: float | None) -> tuple[trimesh.Trimesh, str]:
    out = fill_holes(mesh, radius)
    return out, f"open edges {boundary_edge_count(mesh)} -> {boundary_edge_count(out)}"


@register("smooth", "smooth[:taubin|laplacian[:N]]",
          "Taubin (N lambda|mu pairs, default 10) or volume-kept Laplacian (N steps, default 5)", "trimesh",
          Param("method", _choice("taubin", "laplacian"), "taubin"),
          Param("iterations", _integer(0, MAX_SMOOTH_ITERATIONS), lambda a: DEFAULT_SMOOTH_ITERATIONS[a[0]]))
def _smooth(mesh: trimesh.Trimesh, method: str, iterations: int) -> tuple[trimesh.Trimesh, str]:
    out = (taubin_smooth if method == "taubin" else laplacian_smooth)(mesh, iterations)
    if not mesh.is_watertight or mesh.volume == 0:
        return out, f"{method}, {iterations} iterations"
    return out, f"{method}, {iterations} iterations, volume {100 * (out.volume / mesh.volume - 1):+.2f}%"


@register("decimate", "decimate:N|R", "quadric decimation to N faces, or keep the fraction R < 1 of them",
          "fast-simplification", Param("target", _faces_or_ratio, required=True))
def _decimate(mesh: trimesh.Trimesh, target: int | float) -> tuple[trimesh.Trimesh, str]:
    if isinstance(target, int):
        return decimate(mesh, target_faces=target), ""
    return decimate(mesh, ratio=1.0 - target), ""


@register("remesh", "remesh[:L[:N]]",
          "isotropic remeshing to edge length L (default: the mean edge), N passes (10); creases kept",
          "pymeshlab (MeshLab)", Param("edge_length", _positive),
          Param("iterations", _integer(1, MAX_ITERATIONS), 10))
def _remesh(mesh: trimesh.Trimesh, edge_length: float | None, iterations: int) -> tuple[trimesh.Trimesh, str]:
    out = isotropic_remesh(mesh, edge_length, iterations)
    lengths = out.edges_unique_length
    return out, (f"{len(mesh.faces)} -> {len(out.faces)} faces, edge {lengths.mean():.3g} "
                 f"(std/mean {lengths.std() / lengths.mean():.2f})")


@register("watertight", "watertight[:RES]",
          "closed 2-manifold checked by manifold3d; if filling cannot, voxel remesh at RES (64)",
          "manifold3d, open3d, scikit-image", Param("res", _integer(4, MAX_WATERTIGHT_RES), 64), repairs=True)
def _watertight(mesh: trimesh.Trimesh, res: int) -> tuple[trimesh.Trimesh, str]:
    out, path = repair_watertight(mesh, res)
    return out, {"closed": "already closed (manifold3d)",
                 "filled": "holes filled, closed (manifold3d)",
                 "voxel": f"voxel remesh at {res} (detail under 1/{res} of the size lost), {len(out.faces)} faces",
                 }[path]


@register("normals", "normals", "consistent winding, outward normals (each part)", "trimesh")
def _normals(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, str]:
    out = trimesh.Trimesh(np.array(mesh.vertices, np.float64), np.array(mesh.faces, np.int64), process=False)
    trimesh.repair.fix_normals(out, multibody=True)  # in place: hence the copies above
    flipped = int(np.any(out.faces != np.asarray(mesh.faces), axis=1).sum())
    return out, f"{flipped} of {len(out.faces)} faces flipped"


# ---------------------------------------------------------------- parsing, running, help


def parse_post(spec: str) -> list[Step]:
    """``"fill,smooth:taubin:10,decimate:5000"`` -> validated :class:`Step` list (``""`` -> no steps)."""
    if not isinstance(spec, str):
        raise InputError(f"--post must be a string of steps, got {type(spec).__name__}")
    if not spec.strip():
        return []
    items = [item.strip() for item in spec.split(",")]
    if len(items) > MAX_STEPS:
        raise InputError(f"--post has {len(items)} steps, at most {MAX_STEPS} are allowed")
    if not all(items):
        raise InputError(f"--post '{spec}' has an empty step (steps are separated by single commas)")
    steps = []
    for item in items:
        name, *args = item.split(":")
        steps.append(Step(name, tuple(args)))
    return steps


@dataclass
class PostResult:
    """The refined mesh and one note per step, in order."""

    mesh: trimesh.Trimesh
    notes: list[str]


def run_post(mesh: trimesh.Trimesh, steps: str | Sequence[Step | str],
             progress: Callable[[int, int, str], None] | None = None) -> PostResult:
    """Apply ``steps`` in order; ``progress(done, total, note)`` is called after each one.

    Args:
        mesh: vertices ``(V, 3)``, faces ``(F, 3)``; not modified.
        steps: a ``--post`` string, or a sequence of :class:`Step` objects and ``--post`` strings.
        progress: optional callback, e.g. to advance a progress bar or print the notes.
    """
    todo: list[Step] = []
    for item in [steps] if isinstance(steps, str) else steps:
        if isinstance(item, Step):
            todo.append(item)
        elif isinstance(item, str):
            todo.extend(parse_post(item))
        else:
            raise InputError(f"steps must be Step objects or --post strings, got {type(item).__name__}")
    if not isinstance(mesh, trimesh.Trimesh):
        raise InputError(f"expected a triangle mesh (trimesh.Trimesh), got {type(mesh).__name__}")
    out, notes = mesh.copy(), []
    for i, step in enumerate(todo, 1):
        out, note = step.run(out)
        notes.append(note)
        if progress is not None:
            progress(i, len(todo), note)
    return PostResult(out, notes)


def apply_post(mesh: trimesh.Trimesh, steps: str | Sequence[Step | str],
               progress: Callable[[int, int, str], None] | None = None) -> trimesh.Trimesh:
    """:func:`run_post` returning only the mesh (vertices ``(V', 3)``, faces ``(F', 3)``)."""
    return run_post(mesh, steps, progress).mesh


def help_lines() -> list[str]:
    """One short line per step: its usage and what it does (for the CLI's ``--post`` help)."""
    return [f"{d.usage:<32} {d.summary}" for d in STEPS.values()]


def describe() -> str:
    """All steps, one per line (see :func:`help_lines`)."""
    return "\n".join(help_lines())


def refine_steps(smooth_iters: int = 10, target_faces: int | None = None, fill: bool = True,
                 watertight: bool = False, min_component: float = 0.01) -> list[Step]:
    """The steps :func:`lift3d.postprocess.refine` runs, for its arguments."""
    steps = [Step("clean"), Step("specks", (min_component,))]
    if fill:
        steps.append(Step("fill"))
    steps.append(Step("smooth", ("taubin", smooth_iters)))
    if target_faces:
        steps.append(Step("decimate", (target_faces,)))
    if watertight:
        steps.append(Step("watertight"))
    return steps
