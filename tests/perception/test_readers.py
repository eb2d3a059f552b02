"""Readers of ModelNet40 HDF5, KITTI .bin, image folders and single point-cloud files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assay.errors import InputError
from assay.perception import readers as rd


def write_h5(path: Path, data: np.ndarray | None, label: np.ndarray | None) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        if data is not None:
            f.create_dataset("data", data=data)
        if label is not None:
            f.create_dataset("label", data=label)


def test_modelnet40_h5_files_are_read_in_numeric_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    parts = {}
    for name, n in [("train0", 3), ("train1", 2), ("train10", 1), ("test0", 4)]:
        data = rng.normal(size=(n, 2048, 3)).astype(np.float32)
        label = rng.integers(0, 40, size=(n, 1)).astype(np.uint8)
        write_h5(tmp_path / f"ply_data_{name}.h5", data, label)
        parts[name] = (data, label)
    (tmp_path / "shape_names.txt").write_text("airplane\n")
    points, labels = rd.read_modelnet40_h5(tmp_path, split="train")
    order = ["train0", "train1", "train10"]
    assert points.shape == (6, 2048, 3) and points.dtype == np.float32
    assert labels.shape == (6,) and labels.dtype == np.int64
    np.testing.assert_array_equal(points, np.concatenate([parts[k][0] for k in order]))
    np.testing.assert_array_equal(labels, np.concatenate([parts[k][1][:, 0] for k in order]))
    test_points, test_labels = rd.read_modelnet40_h5(tmp_path, split="test")
    np.testing.assert_array_equal(test_points, parts["test0"][0])
    np.testing.assert_array_equal(test_labels, parts["test0"][1][:, 0])
    assert len(rd.read_modelnet40_h5(tmp_path)[1]) == 10
    single, _ = rd.read_modelnet40_h5(tmp_path / "ply_data_train1.h5")
    np.testing.assert_array_equal(single, parts["train1"][0])


def test_modelnet40_h5_errors_name_file_and_dataset(tmp_path: Path) -> None:
    missing = tmp_path / "ply_data_train0.h5"
    write_h5(missing, np.zeros((2, 2048, 3), np.float32), None)
    with pytest.raises(InputError, match=r"ply_data_train0\.h5.*'label'"):
        rd.read_modelnet40_h5(missing)
    wrong = tmp_path / "wrong.h5"
    write_h5(wrong, np.zeros((2, 2048, 6), np.float32), np.zeros((2, 1), np.int64))
    with pytest.raises(InputError, match=r"wrong\.h5.*'data'.*\(2, 2048, 6\)"):
        rd.read_modelnet40_h5(wrong)
    mismatch = tmp_path / "mismatch.h5"
    write_h5(mismatch, np.zeros((2, 2048, 3), np.float32), np.zeros((3, 1), np.int64))
    with pytest.raises(InputError, match=r"mismatch\.h5.*'label'"):
        rd.read_modelnet40_h5(mismatch)
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"this is not hdf5" * 10)
    with pytest.raises(InputError, match=r"corrupt\.h5.*HDF5"):
        rd.read_modelnet40_h5(corrupt)
    with pytest.raises(InputError, match="ply_data_test"):
        rd.read_modelnet40_h5(tmp_path, split="test")
    with pytest.raises(InputError, match="split"):
        rd.read_modelnet40_h5(tmp_path, split="val")


def test_kitti_bin_round_trip_and_bad_size(tmp_path: Path) -> None:
    scan = np.random.default_rng(1).normal(size=(1000, 4)).astype(np.float32)
    path = tmp_path / "000000.bin"
    scan.astype("<f4").tofile(path)
    got = rd.read_kitti_bin(path)
    assert got.dtype == np.float32 and got.shape == (1000, 4)
    np.testing.assert_array_equal(got, scan)
    np.testing.assert_array_equal(rd.read_points_file(path), scan)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(InputError, match=r"cut\.bin.*15996 bytes"):
        rd.read_kitti_bin(cut)
    bad = scan.copy()
    bad[7, 2] = np.nan
    bad.tofile(tmp_path / "nan.bin")
    with pytest.raises(InputError, match="point 7"):
        rd.read_kitti_bin(tmp_path / "nan.bin")
    with pytest.raises(InputError, match="absent"):
        rd.read_kitti_bin(tmp_path / "absent.bin")


def test_image_folder_layout_and_pixels(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(2)
    written = {}
    for cls, names in {"cat": ["b.png", "a.jpg"], "dog": ["x.PNG"]}.items():
        (tmp_path / cls).mkdir()
        for name in names:
            pixels = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / cls / name)
            written[tmp_path / cls / name] = pixels
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "README").write_text("a file at the root is not a class")
    items = rd.read_image_folder(tmp_path)
    assert items == [
        (tmp_path / "cat" / "a.jpg", "cat"),
        (tmp_path / "cat" / "b.png", "cat"),
        (tmp_path / "dog" / "x.PNG", "dog"),
    ]
    png = rd.load_image(tmp_path / "cat" / "b.png")
    assert png.dtype == np.uint8 and png.shape == (5, 7, 3)
    np.testing.assert_array_equal(png, written[tmp_path / "cat" / "b.png"])  # lossless
    jpg = rd.load_image(tmp_path / "cat" / "a.jpg")
    assert jpg.shape == (5, 7, 3)
    Image.fromarray(np.full((4, 4), 200, np.uint8)).save(tmp_path / "grey.png")
    grey = rd.load_image(tmp_path / "grey.png")
    assert grey.shape == (4, 4, 3) and (grey == 200).all()


def test_image_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        rd.read_image_folder(tmp_path / "nowhere")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(InputError, match="no images"):
        rd.read_image_folder(tmp_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match=r"broken\.png.*not a readable image"):
        rd.load_image(broken)


def test_points_files_of_every_format(tmp_path: Path) -> None:
    cloud = np.array([[0.0, 1.0, 2.0, 0.5], [3.0, -4.0, 5.5, 0.25]], dtype=np.float32)
    np.save(tmp_path / "a.npy", cloud[:, :3])
    np.testing.assert_array_equal(rd.read_points_file(tmp_path / "a.npy"), cloud[:, :3])
    np.save(tmp_path / "b.npy", cloud.astype(np.float64))
    got = rd.read_points_file(tmp_path / "b.npy")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, cloud)
    (tmp_path / "c.txt").write_text("# a comment\nx y z i\n0 1 2 0.5\n\n3 -4 5.5 0.25\n")
    np.testing.assert_array_equal(rd.read_points_file(tmp_path / "c.txt"), cloud)
    (tmp_path / "d.xyz").write_text("0,1,2\n3,-4,5.5\n")
    np.testing.assert_array_equal(rd.read_points_file(tmp_path / "d.xyz"), cloud[:, :3])
    ply = (
        "ply\nformat ascii 1.0\ncomment test\nelement vertex 2\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty float intensity\n"
        "element face 0\nproperty list uchar int vertex_indices\nend_header\n"
        "0 1 2 255 0.5\n3 -4 5.5 10 0.25\n"
    )
    (tmp_path / "e.ply").write_text(ply)
    np.testing.assert_array_equal(rd.read_points_file(tmp_path / "e.ply"), cloud)


def test_points_file_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("0 1 2\n3 4 five\n")
    with pytest.raises(InputError, match=r"bad\.txt:2"):
        rd.read_points_file(tmp_path / "bad.txt")
    (tmp_path / "ragged.txt").write_text("0 1 2\n3 4 5 6\n")
    with pytest.raises(InputError, match=r"ragged\.txt:2"):
        rd.read_points_file(tmp_path / "ragged.txt")
    (tmp_path / "two.txt").write_text("0 1\n3 4\n")
    with pytest.raises(InputError, match=r"two\.txt:1"):
        rd.read_points_file(tmp_path / "two.txt")
    (tmp_path / "nan.txt").write_text("nan 1 2\n3 4 5\n")  # not taken for a header row
    with pytest.raises(InputError, match=r"nan\.txt.*point 0"):
        rd.read_points_file(tmp_path / "nan.txt")
    np.save(tmp_path / "flat.npy", np.zeros((5, 2)))
    with pytest.raises(InputError, match=r"flat\.npy.*\(5, 2\)"):
        rd.read_points_file(tmp_path / "flat.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match=r"junk\.npy"):
        rd.read_points_file(tmp_path / "junk.npy")
    (tmp_path / "short.ply").write_text(
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n0 0 0\n1 1 1\n"
    )
    with pytest.raises(InputError, match="header says 3 vertices"):
        rd.read_points_file(tmp_path / "short.ply")
    (tmp_path / "bin.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\n")
    with pytest.raises(InputError, match=r"bin\.ply:2.*ASCII"):
        rd.read_points_file(tmp_path / "bin.ply")
    (tmp_path / "x.las").write_text("")
    with pytest.raises(InputError, match="suffix"):
        rd.read_points_file(tmp_path / "x.las")
