"""Readers for the public perception data formats, for users who have the data.

assay runs offline on its own synthetic data (:mod:`assay.perception.synthetic`); these
readers let the same corruptions, models and scans run on real data:

* **ModelNet40** as the standard 2048-point HDF5 release (``ply_data_train0.h5`` ...,
  ``ply_data_test1.h5``; datasets ``data`` (B, 2048, 3) and ``label`` (B, 1)), as used by
  PointNet, DGCNN and ModelNet40-C: :func:`read_modelnet40_h5`.
* **KITTI** velodyne scans: raw little-endian float32 ``x, y, z, reflectance`` records
  (metres; reflectance in [0, 1]): :func:`read_kitti_bin`.
* **Image folders** in the torchvision ``ImageFolder`` layout ``root/<class>/<image>``:
  :func:`read_image_folder` and :func:`load_image`.
* A single point cloud in any of ``.npy``, ``.bin``, ``.txt``/``.xyz``/``.csv`` or
  ASCII ``.ply``: :func:`read_points_file`.

Every malformed file raises :class:`assay.errors.InputError` naming the file (and the
dataset, line or field); h5py and Pillow are imported only when their format is read.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assay.errors import InputError, MissingDependencyError

__all__ = [
    "IMAGE_SUFFIXES",
    "POINT_SUFFIXES",
    "load_image",
    "read_image_folder",
    "read_kitti_bin",
    "read_modelnet40_h5",
    "read_points_file",
]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp")
POINT_SUFFIXES: tuple[str, ...] = (".npy", ".bin", ".txt", ".xyz", ".csv", ".ply")

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

_SPLIT_FILE = re.compile(r"ply_data_(train|test)(\d+)\.h5$")


# --------------------------------------------------------------------------- ModelNet40


def _h5_files(path: Path, split: str | None) -> list[Path]:
    if split is not None and split not in ("train", "test"):
        raise InputError(f"must be 'train', 'test' or None, got {split!r}", field="split")
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError("no such file or directory", source=str(path))
    found = []
    for candidate in path.glob("ply_data_*.h5"):
        match = _SPLIT_FILE.search(candidate.name)
        if match and (split is None or match.group(1) == split):
            found.append((match.group(1), int(match.group(2)), candidate))
    if not found:
        what = "ply_data_*.h5" if split is None else f"ply_data_{split}*.h5"
        raise InputError(f"no {what} files in this directory", source=str(path))
    # Files in numeric order (train0, train1, ..., train10), train before test.
    return [p for _, _, p in sorted(found, key=lambda t: (t[0] != "train", t[1]))]


def _read_h5(file: Path) -> tuple[FloatArray, IntArray]:
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - h5py is in the perception extra
        raise MissingDependencyError("h5py", "perception") from err
    try:
        handle = h5py.File(file, "r")
    except OSError as err:
        raise InputError(f"not a readable HDF5 file ({err})", source=str(file)) from err
    with handle:
        for name in ("data", "label"):
            if name not in handle or not isinstance(handle[name], h5py.Dataset):
                raise InputError(f"has no dataset {name!r}", source=str(file), field=name)
        data = np.asarray(handle["data"][()])
        label = np.asarray(handle["label"][()])
    if data.ndim != 3 or data.shape[2] != 3:
        raise InputError(
            f"dataset 'data' must be (B, N, 3), got shape {data.shape}",
            source=str(file),
            field="data",
        )
    if label.shape not in ((len(data),), (len(data), 1)):
        raise InputError(
            f"dataset 'label' must be ({len(data)},) or ({len(data)}, 1), got {label.shape}",
            source=str(file),
            field="label",
        )
    if data.dtype.kind not in "fiu" or label.dtype.kind not in "iu":
        raise InputError(
            f"expected float points and integer labels, got {data.dtype} and {label.dtype}",
            source=str(file),
        )
    points = data.astype(np.float32)
    if not np.isfinite(points).all():
        raise InputError("contains NaN or infinite coordinates", source=str(file), field="data")
    return points, label.reshape(-1).astype(np.int64)


def read_modelnet40_h5(
    path_or_dir: str | Path, split: str | None = None
) -> tuple[FloatArray, IntArray]:
    """Read ModelNet40 point clouds and labels from the standard HDF5 release.

    Args:
        path_or_dir: one ``.h5`` file, or the ``modelnet40_ply_hdf5_2048`` directory.
        split: with a directory, ``"train"`` or ``"test"`` reads only those files;
            ``None`` reads all of them (train first). Ignored for a single file.

    Returns:
        ``points`` ``(B, N, 3)`` float32 (N = 2048 in the release; unit-sphere
        normalised coordinates) and ``labels`` ``(B,)`` int64 class indices (0..39, in the
        order of ``shape_names.txt``), concatenated over the files in numeric order.
    """
    parts = [_read_h5(file) for file in _h5_files(Path(path_or_dir), split)]
    sizes = {p.shape[1] for p, _ in parts}
    if len(sizes) > 1:
        raise InputError(
            f"files have different point counts {sorted(sizes)}", source=str(path_or_dir)
        )
    points = np.concatenate([p for p, _ in parts], axis=0)
    labels = np.concatenate([y for _, y in parts], axis=0)
    return points, labels


# --------------------------------------------------------------------------- KITTI


def read_kitti_bin(path: str | Path) -> FloatArray:
    """Read a KITTI velodyne scan: ``(N, 4)`` float32 ``x, y, z`` (metres) and reflectance.

    The file is a flat run of little-endian float32 values, four per point, in the
    sensor's scan order (which the ring-id recovery of :mod:`assay.perception.lidar` may
    use), so its size must be a multiple of 16 bytes.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read ({err.strerror or err})", source=str(file)) from err
    if len(raw) % 16:
        raise InputError(
            f"size {len(raw)} bytes is not a whole number of 4-float32 points (16 bytes)",
            source=str(file),
        )
    points = np.frombuffer(raw, dtype="<f4").reshape(-1, 4).astype(np.float32)
    if not np.isfinite(points).all():
        bad = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
        raise InputError(f"point {bad} has NaN or infinite values", source=str(file))
    return points


# --------------------------------------------------------------------------- images


def read_image_folder(root: str | Path) -> list[tuple[Path, str]]:
    """List ``(path, class_name)`` of every image under ``root/<class_name>/``.

    Classes are the sub-directories of ``root`` in sorted order (so class index =
    position in ``sorted({name for _, name in result})``, as in torchvision's
    ``ImageFolder``); images are files with a suffix in :data:`IMAGE_SUFFIXES`
    (case-insensitive), sorted by path, searched recursively within each class.
    """
    base = Path(root)
    if not base.is_dir():
        raise InputError("not a directory", source=str(base))
    items: list[tuple[Path, str]] = []
    for class_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        images = sorted(
            p for p in class_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        items.extend((p, class_dir.name) for p in images)
    if not items:
        raise InputError(
            f"no images ({', '.join(IMAGE_SUFFIXES)}) in root/<class>/ sub-directories",
            source=str(base),
        )
    return items


def load_image(path: str | Path) -> npt.NDArray[np.uint8]:
    """Load an image as an ``(H, W, 3)`` uint8 RGB array (grey and RGBA converted)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as err:  # pragma: no cover - Pillow is in the perception extra
        raise MissingDependencyError("pillow", "perception") from err
    file = Path(path)
    try:
        with Image.open(file) as image:
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as err:
        raise InputError(f"not a readable image ({err})", source=str(file)) from err
    return rgb.copy()


# --------------------------------------------------------------------------- one cloud


def _check_columns(points: npt.NDArray[np.generic], file: Path) -> FloatArray:
    if points.ndim != 2 or points.shape[1] not in (3, 4):
        raise InputError(
            f"points must be (N, 3) or (N, 4), got shape {points.shape}", source=str(file)
        )
    if points.dtype.kind not in "fiu":
        raise InputError(f"points must be numbers, got dtype {points.dtype}", source=str(file))
    out = points.astype(np.float32)
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
        raise InputError(f"point {bad} has NaN or infinite values", source=str(file))
    return out


def _parse_rows(lines: list[str], first_line: int, file: Path) -> FloatArray:
    rows: list[list[float]] = []
    width: int | None = None
    for offset, text in enumerate(lines):
        line_no = first_line + offset
        stripped = text.split("#", 1)[0].strip()
        if not stripped:
            continue
        fields = stripped.replace(",", " ").split()
        try:
            values = [float(f) for f in fields]
        except ValueError as err:
            raise InputError(f"not a number ({err})", source=str(file), line=line_no) from err
        if width is None:
            width = len(values)
        if len(values) != width or width < 3:
            raise InputError(
                f"has {len(values)} values, expected {width if width >= 3 else '3 or more'}",
                source=str(file),
                line=line_no,
            )
        rows.append(values)
    if not rows:
        raise InputError("contains no points", source=str(file))
    return np.asarray(rows, dtype=np.float32)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_text(file: Path) -> FloatArray:
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read as text ({err})", source=str(file)) from err
    # A header row of column names (x,y,z,...) is skipped.
    start = 0
    while start < len(lines) and not lines[start].split("#", 1)[0].strip():
        start += 1
    if start < len(lines) and not _is_number(lines[start].replace(",", " ").split()[0]):
        start += 1
    return _parse_rows(lines[start:], start + 1, file)[:, :4]


def _read_ply(file: Path) -> FloatArray:
    try:
        lines = file.read_bytes().decode("ascii").splitlines()
    except UnicodeDecodeError as err:
        raise InputError("only ASCII .ply is supported (binary found)", source=str(file)) from err
    except OSError as err:
        raise InputError(f"cannot read ({err.strerror or err})", source=str(file)) from err
    if not lines or lines[0].strip() != "ply":
        raise InputError("does not start with 'ply'", source=str(file), line=1)
    n_vertex, end, in_vertex = -1, -1, False
    props: list[str] = []
    for i, text in enumerate(lines[1:], start=2):
        words = text.split()
        if not words:
            continue
        if words[0] == "format" and words[1:2] != ["ascii"]:
            raise InputError(
                f"only ASCII .ply is supported, got {text!r}", source=str(file), line=i
            )
        if words[0] == "element":
            in_vertex = words[1:2] == ["vertex"]
            if in_vertex:
                try:
                    n_vertex = int(words[2])
                except (IndexError, ValueError) as err:
                    raise InputError(
                        f"bad element line {text!r}", source=str(file), line=i
                    ) from err
        elif words[0] == "property" and in_vertex:
            props.append(words[-1])
        elif words[0] == "end_header":
            end = i
            break
    if end < 0 or n_vertex < 0:
        raise InputError("no 'element vertex' header ending in 'end_header'", source=str(file))
    if props[:3] != ["x", "y", "z"]:
        raise InputError(f"vertex properties must start x y z, got {props}", source=str(file))
    body = lines[end : end + n_vertex]
    if len(body) < n_vertex:
        raise InputError(f"header says {n_vertex} vertices, file has {len(body)}", source=str(file))
    if n_vertex == 0:
        return np.zeros((0, 3), np.float32)
    table = _parse_rows(body, end + 1, file)
    if table.shape[1] != len(props):
        raise InputError(
            f"vertex rows have {table.shape[1]} values, the header lists {len(props)}",
            source=str(file),
            line=end + 1,
        )
    keep = [props.index(name) for name in ("x", "y", "z")]
    extra = [props.index(n) for n in ("intensity", "reflectance", "scalar_intensity") if n in props]
    return table[:, keep + extra[:1]]


def read_points_file(path: str | Path) -> FloatArray:
    """Read one point cloud as ``(N, 3)`` or ``(N, 4)`` float32 (x, y, z[, intensity]).

    Formats by suffix: ``.npy`` (an (N, 3) or (N, 4) array), ``.bin`` (KITTI, see
    :func:`read_kitti_bin`), ``.txt``/``.xyz``/``.csv`` (one point per line, values
    separated by whitespace or commas, ``#`` comments and one header row allowed, the
    first four columns kept), ``.ply`` (ASCII; ``x y z`` and an ``intensity`` or
    ``reflectance`` property if present).
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if not file.is_file():
        raise InputError("no such file", source=str(file))
    if suffix == ".bin":
        return read_kitti_bin(file)
    if suffix == ".npy":
        try:
            array = np.load(file, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise InputError(f"not a readable .npy array ({err})", source=str(file)) from err
        return _check_columns(np.asarray(array), file)
    if suffix in (".txt", ".xyz", ".csv"):
        return _check_columns(_read_text(file), file)
    if suffix == ".ply":
        return _check_columns(_read_ply(file), file)
    raise InputError(
        f"unknown point-cloud suffix {suffix!r}; expected one of {', '.join(POINT_SUFFIXES)}",
        source=str(file),
    )
