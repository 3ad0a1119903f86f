"""Reading and writing of every file format: one extension table, one dispatcher.

- ``formats.py``: the table (:data:`FORMATS`, one :class:`FileFormat` per extension) and the dispatcher
  (:func:`read_any`, :func:`write_any`, :func:`kind_of`, :func:`check_output_path`, :func:`extensions`).
- ``meshes.py`` (GLB/glTF, OBJ, STL, OFF), ``points.py`` (PLY mesh-or-points, PCD, XYZ), ``voxels.py`` (binvox,
  npz), ``images.py`` (any PIL image, from a path or bytes), ``usd.py`` (USDZ, USDA, USDC through usd-core): each reads
  and writes its formats and registers them.
- ``atomic.py``: every write goes to a temporary file renamed when complete, or to a binary stream; several files
  all or nothing (:func:`~lift3d.io.atomic.all_or_nothing`); ``npz.py``: byte-reproducible ``.npz`` archives.
- ``checks.py``: header counts against :mod:`lift3d.limits`, lying headers, absurd or degenerate geometry;
  ``pcd.py``: a PCD header checked before Open3D (which crashes on some) reads it;
  ``paths.py``: outputs checked before any work (not an input, not a folder, a writable folder, a name that fits).
"""

from lift3d.io.formats import (
    FORMATS,
    FileFormat,
    check_output_path,
    extensions,
    kind_of,
    read_any,
    write_any,
)

__all__ = ["FORMATS", "FileFormat", "check_output_path", "extensions", "kind_of", "read_any", "write_any"]
