"""A robustness scan end to end: data -> train -> scan through the engine and store -> report.

Two tiny PointNets are trained for a few epochs (a model and a baseline), then
``assay perception scan`` runs the clean samples, two object corruptions at three
severities and a white-box attack through the real engine and SQLite store, and writes
the robustness report, which headless Chromium renders. Bad input exits 2 with the
field named.
"""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from assay.cli.app import main
from assay.core.records import Status
from assay.perception.cases import input_of
from assay.store.sqlite import Store

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from assay.perception.data import synthetic
    from assay.perception.train import train

    folder = tmp_path_factory.mktemp("models")
    data = synthetic(12, seed=0, n_points=256)
    tiny = {"arch": {"widths": [32, 64], "head": [32], "dropout": 0.1}, "train_points": 128}
    paths = []
    for seed, epochs in ((0, 12), (1, 2)):  # a model that learns, and a weak baseline
        model, _ = train(
            data.x, data.labels, classes=data.classes, epochs=epochs, seed=seed, options=tiny
        )
        path = folder / f"m{seed}.pt"
        model.save(path)
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def scanned(models: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scan")
    assert main(_scan_args(models, folder / "p.db", folder / "out")) == 0
    return folder


def _scan_args(models: tuple[Path, Path], db: Path, out: Path) -> list[str]:
    """The module's scan: model vs baseline, two corruptions x 3 severities and FGSM."""
    model, baseline = models
    args = ["perception", "scan", "--model", str(model), "--baseline", str(baseline)]
    args += ["--per-class", "4", "-c", "pointcloud:jitter,dropout_global,severity=1-3"]
    args += ["-c", "adversarial:fgsm,severity=2", "--db", str(db), "--out", str(out)]
    return [*args, "--quiet"]


def _run_id(folder: Path) -> str:
    (run,) = [p.name for p in (folder / "out").iterdir()]
    return run


def test_scan_stores_every_attempt_with_a_label_verdict(scanned: Path) -> None:
    store = Store(scanned / "p.db")
    results = store.results(_run_id(scanned))
    store.close()
    # 40 samples x (clean + 2 kinds x 3 severities + fgsm) x 2 models
    assert len(results) == 40 * 8 * 2
    assert {r.status for r in results} <= {Status.CORRECT, Status.WRONG}
    assert all(r.response.ok for r in results)
    labels = {r.attempt.label for r in results}
    assert {"", "pointcloud:jitter", "pointcloud:dropout_global", "adversarial:fgsm"} == labels
    verdict = results[0].verdicts[0]
    assert verdict.judge.name == "label" and verdict.score is not None


def test_corrupted_inputs_replay_bit_for_bit(scanned: Path) -> None:
    store = Store(scanned / "p.db")
    results = store.results(_run_id(scanned))
    store.close()
    jitter = [r for r in results if r.attempt.label == "pointcloud:jitter"][:3]
    for r in jitter:
        first, again = input_of(r.attempt), input_of(r.attempt)
        assert np.array_equal(first, again)
        clean = next(
            c for c in results if c.attempt.case == r.attempt.case and not c.attempt.attacks
        )
        moved = np.abs(first - input_of(clean.attempt)).mean()
        assert moved > 1e-4  # the corruption really changed the sample
    dropped = [r for r in results if r.attempt.detail("variant") == "dropout_global"]
    sizes = {r.attempt.detail("severity"): input_of(r.attempt).shape[0] for r in dropped}
    assert sizes[1] > sizes[2] > sizes[3]  # severity removes more points


def test_report_has_mce_mrr_abstention_and_calibration(scanned: Path) -> None:
    run = _run_id(scanned)
    data = json.loads((scanned / "out" / run / "robustness.json").read_text())
    assert data["clean"]["rate"] > 0.5  # the model learned (10 classes: chance is 0.1)
    assert data["mce"]["value"] is not None or data["mce"]["excluded"]
    assert data["mrr"]["value"] is not None
    assert data["baseline_name"] == "m1.pt"
    corruptions = {row["corruption"] for row in data["corruptions"]}
    assert corruptions == {"pointcloud:jitter", "pointcloud:dropout_global", "adversarial:fgsm"}
    cell = next(c for c in data["cells"] if c["corruption"] == "clean")
    assert cell["abstention"]["coverage"] is not None
    calibration = data["calibration"]
    assert calibration["n_calibration"] >= 10 and "clean" in calibration["ece"]
    markdown = (scanned / "out" / run / "robustness.md").read_text()
    assert "pointcloud:jitter" in markdown and "Calibration" in markdown


def test_rerun_is_answered_from_the_store(
    scanned: Path, models: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = _scan_args(models, scanned / "p.db", scanned / "again")
    assert main([*args, "--no-abstention"]) == 0
    assert "0 answered, 640 cached" in capsys.readouterr().out.replace("\n", " ")


class _Svgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.curves: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "svg" and "severity-curve" in (found.get("class") or ""):
            self.curves.append(str(found.get("data-corruption")))


def test_report_renders_in_chromium(scanned: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {CHROMIUM} is missing")
        pytest.skip("chromium not installed")
    page = scanned / "out" / _run_id(scanned) / "robustness.html"
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    parsed = _Svgs()
    parsed.feed(dom)
    assert {"robustness-headline", "severity-curves", "mce-table", "accuracy-table"} <= parsed.ids
    assert {"abstention-table", "calibration-table"} <= parsed.ids
    assert sorted(parsed.curves) == sorted(
        ["pointcloud:jitter", "pointcloud:dropout_global", "adversarial:fgsm"]
    )


# -- bad input: exit 2, the field named, nothing written -------------------------------


def _fails(args: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    for needle in needles:
        assert needle in err, err


def test_corrupt_rejects_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros((10, 2), np.float32))
    _fails(["perception", "corrupt", str(flat), "--kind", "jitter", "--severity", "1"], capsys)
    nan = tmp_path / "nan.npy"
    cloud = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    cloud[3, 1] = np.nan
    np.save(nan, cloud)
    _fails(
        ["perception", "corrupt", str(nan), "--kind", "jitter", "--severity", "1"],
        capsys,
        "NaN",
    )
    good = tmp_path / "good.npy"
    np.save(good, np.nan_to_num(cloud))
    _fails(
        ["perception", "corrupt", str(good), "--kind", "mist", "--severity", "1"],
        capsys,
        "mist",
    )
    _fails(
        ["perception", "corrupt", str(good), "--kind", "jitter", "--severity", "9"],
        capsys,
        "severity",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat.npy", "good.npy", "nan.npy"]


def test_corrupt_writes_a_corrupted_copy(tmp_path: Path) -> None:
    good = tmp_path / "cloud.npy"
    cloud = np.random.default_rng(0).normal(size=(256, 3)).astype(np.float32)
    np.save(good, cloud)
    out = tmp_path / "out.npy"
    args = ["perception", "corrupt", str(good), "--kind", "dropout_global", "--severity", "3"]
    assert main([*args, "--out", str(out)]) == 0
    assert 0 < np.load(out).shape[0] < 256


def test_scan_and_data_reject_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fails(["perception", "scan", "--model", str(tmp_path / "none.pt")], capsys, "model")
    _fails(["perception", "data", "--out", str(tmp_path / "x.txt"), "--per-class", "1"], capsys)
    broken = tmp_path / "broken.npz"
    np.savez(broken, x=np.zeros((4, 16, 3), np.float32), labels=np.zeros(3, np.int64))
    model = tmp_path / "m.pt"
    model.write_bytes(b"not a model")
    _fails(
        ["perception", "scan", "--model", str(model), "--data", str(broken)],
        capsys,
        "classes",
    )


def test_generic_scan_command_runs_a_perception_suite(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    args = ["scan", "-s", "synthetic-objects", "--suite-arg", "per_class=2", "-t", "classifier"]
    args += ["-T", f"model={models[0]}", "-j", "label", "-a", "pointcloud:cutout,severity=2"]
    args += ["--db", str(tmp_path / "g.db"), "--out", str(tmp_path / "out"), "--quiet"]
    assert main(args) == 0
    (run,) = list((tmp_path / "out").iterdir())
    data = json.loads((run / "robustness.json").read_text())
    assert data["n"] == 40 and [r["corruption"] for r in data["corruptions"]] == ["cutout"]


def test_white_box_attacks_in_the_target_lower_accuracy(models: tuple[Path, Path]) -> None:
    from assay.core.records import Response
    from assay.engine.plan import make_plan
    from assay.perception.attacks import AdversarialAttack
    from assay.perception.judge import LabelJudge
    from assay.perception.suites import synthetic_objects
    from assay.perception.target import ClassifierTarget, answer_of

    target = ClassifierTarget(model=str(models[0]))
    suite = synthetic_objects(per_class=3, points=256)
    chains = [(), (AdversarialAttack(variants=["pgd"], severity=3, norm="l2"),)]
    plan = make_plan(suites=[suite], targets=[target], judges=[LabelJudge()], attack_chains=chains)
    answers = target.respond_all(plan.attempts)
    accuracy: dict[str, list[bool]] = {}
    for attempt, answer in zip(plan.attempts, answers, strict=True):
        assert isinstance(answer, Response), answer
        correct = answer_of(answer.text)[0] == attempt.case.metadata["label"]
        accuracy.setdefault(attempt.label, []).append(correct)
    clean, attacked = np.mean(accuracy[""]), np.mean(accuracy["adversarial:pgd"])
    assert attacked < clean, (clean, attacked)


def test_any_exported_torch_classifier_is_a_target(tmp_path: Path) -> None:
    """Points and images through torch.export programs (not assay's own model format)."""
    import torch

    from assay.core.records import Attempt, Response, Spec
    from assay.perception.cases import suite_of
    from assay.perception.data import Samples, load, save_npz, synthetic
    from assay.perception.target import ClassifierTarget, answer_of

    class MeanZ(torch.nn.Module):  # class 1 when the cloud's mean z is positive
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            z = x[:, :, 2].mean(dim=1, keepdim=True)
            return torch.cat([-z, z], dim=1)

    class Bright(torch.nn.Module):  # class 1 for bright images
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            m = x.mean(dim=(1, 2, 3)).unsqueeze(1) - 0.5
            return torch.cat([-m, m], dim=1)

    batch, n = torch.export.Dim("batch"), torch.export.Dim("n")
    points_model, image_model = tmp_path / "points.pt2", tmp_path / "images.pt2"
    program = torch.export.export(
        MeanZ(), (torch.zeros(2, 16, 3),), dynamic_shapes={"x": {0: batch, 1: n}}
    )
    torch.export.save(program, str(points_model))
    program = torch.export.export(
        Bright(), (torch.zeros(2, 3, 8, 8),), dynamic_shapes={"x": {0: batch}}
    )
    torch.export.save(program, str(image_model))

    cases = suite_of(synthetic(1, seed=0, n_points=64)).cases[:4]
    target = ClassifierTarget(model=str(points_model))
    answers = target.respond_all([Attempt.make(c, target.spec()) for c in cases])
    for case, answer in zip(cases, answers, strict=True):
        assert isinstance(answer, Response)
        predicted, logits = answer_of(answer.text)
        clean = np.asarray(load(case.metadata["dataset"]).x[case.metadata["index"]])
        assert logits.shape == (2,) and predicted == int(clean[:, 2].mean() > 0)

    images = np.stack([np.full((8, 8, 3), v, np.uint8) for v in (20, 240, 30, 250)])
    source = save_npz(
        Samples(images, np.array([0, 1, 0, 1]), ("dark", "bright")), tmp_path / "i.npz"
    )
    loaded = Samples(images, np.array([0, 1, 0, 1]), ("dark", "bright"), source=source)
    image_cases = suite_of(loaded).cases
    target = ClassifierTarget(model=str(image_model))
    answers = target.respond_all([Attempt.make(c, Spec(name="t")) for c in image_cases])
    got = [answer_of(a.text)[0] for a in answers if isinstance(a, Response)]
    assert got == [0, 1, 0, 1]
