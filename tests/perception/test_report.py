"""The robustness report: JSON round trip, Markdown tables, self-contained escaped HTML."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.perception.report import (
    read_json,
    render_html,
    render_markdown,
    write_html,
    write_json,
)
from assay.perception.robustness import Prediction, RobustnessSummary, summarise

RIGHT = (1.0, 0.0)
WRONG = (0.0, 1.0)
EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def preds(spec: dict[tuple[str, int], int], n: int = 10, tag: str = "") -> list[Prediction]:
    out = []
    for (name, sev), correct in spec.items():
        for i in range(n):
            out.append(Prediction(f"{tag}{i}", 0, name, sev, RIGHT if i < correct else WRONG))
    return out


MODEL = {("clean", 0): 10, ("fog", 1): 8, ("fog", 2): 6, ("fog", 3): 5, (EVIL, 1): 5}
BASE = {("clean", 0): 9, ("fog", 1): 6, ("fog", 2): 2, ("fog", 3): 1, (EVIL, 1): 5}


@pytest.fixture(scope="module")
def summary() -> RobustnessSummary:
    return summarise(
        preds(MODEL),
        baseline=preds(BASE, tag="b"),
        model_name="pointnet <b>",
        baseline_name="dgcnn & co",
        abstention={("fog", 1): {"coverage": 0.9, "set_size": 1.25}},
    )


class Collect(HTMLParser):
    """Start tags with their (unescaped) attributes, and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Collect:
    parser = Collect()
    parser.feed(page)
    return parser


def test_html_has_stable_ids_and_one_curve_per_corruption(summary: RobustnessSummary) -> None:
    page = render_html(summary)
    doc = parse(page)
    ids = {attrs.get("id") for _, attrs in doc.tags}
    assert {"robustness-headline", "severity-curves", "mce-table", "accuracy-table"} <= ids
    assert "abstention-table" in ids
    curves = [a for t, a in doc.tags if t == "svg" and a.get("class") == "severity-curve"]
    assert [a["data-corruption"] for a in curves] == ["fog", EVIL]


def test_html_escapes_untrusted_text(summary: RobustnessSummary) -> None:
    page = render_html(summary)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "dgcnn &amp; co" in page
    # the parser sees the malicious name only as text or attribute values, never as tags
    doc = parse(page)
    assert {t for t, _ in doc.tags} <= {
        "html", "head", "meta", "title", "style", "body", "main", "p", "h1", "h2", "strong",
        "section", "div", "span", "svg", "text", "line", "rect", "polygon", "polyline",
        "circle", "table", "thead", "tbody", "tr", "th", "td", "footer",
    }  # fmt: skip
    assert any(EVIL in chunk for chunk in doc.text)


def test_html_is_self_contained(summary: RobustnessSummary) -> None:
    page = render_html(summary)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert (
        "https://" not in page and "<link" not in page and "src=" not in page.replace("src=x", "")
    )


def test_severity_curve_points(summary: RobustnessSummary) -> None:
    from assay.perception.report import BOTTOM, LEFT, RIGHT, TOP, H, W

    page = render_html(summary)
    start = page.index('data-corruption="fog"')
    svg = page[start : page.index("</svg>", start)]
    doc = parse("<svg " + svg)
    model = [a for t, a in doc.tags if t == "circle" and a.get("class") == "model-pt"]
    base = [a for t, a in doc.tags if t == "circle" and a.get("class") == "baseline-pt"]
    assert len(model) == 4 and len(base) == 4  # clean + three severities each
    xs = [float(a["cx"] or 0) for a in model]
    ys = [float(a["cy"] or 0) for a in model]
    assert xs[0] == pytest.approx(LEFT) and xs[-1] == pytest.approx(W - RIGHT)
    height = H - TOP - BOTTOM
    for y, acc in zip(ys, (1.0, 0.8, 0.6, 0.5), strict=True):  # clean point at severity 0
        assert y == pytest.approx(TOP + height * (1 - acc), abs=0.06)
    assert float(base[2]["cy"] or 0) == pytest.approx(TOP + height * 0.8, abs=0.06)
    assert sum(t == "polygon" for t, _ in doc.tags) == 1  # the Wilson band


def test_html_without_baseline_or_abstention() -> None:
    page = render_html(summarise(preds({("clean", 0): 10, ("fog", 1): 7})))
    doc = parse(page)
    ids = {attrs.get("id") for _, attrs in doc.tags}
    assert "abstention-table" not in ids and "mce-table" in ids
    assert not any(a.get("class") == "baseline-pt" for _, a in doc.tags)
    assert "no baseline given" in page


def test_markdown_tables(summary: RobustnessSummary) -> None:
    md = render_markdown(summary)
    lines = md.splitlines()
    fog = next(line for line in lines if line.startswith("| fog | 63.3%"))
    # fog CE: (0.2 + 0.4 + 0.5) / (0.4 + 0.8 + 0.9) = 52.4%; RR = 63.3%
    assert "| 52.4% |" in fog and fog.endswith("| 0/30 |")
    assert any(line.startswith("| **mean** |") for line in lines)
    acc = next(line for line in lines if line.startswith("| fog | – | 80.0% (49.0–94.3%)"))
    assert acc.count("|") == 6  # name + clean + three severities
    assert "| corruption | s0 | s1 | s2 | s3 |" in lines
    # the malicious name can break neither the table nor a renderer
    assert "<script>" not in md and "\\|" not in EVIL
    assert "| fog s1 | 90.0% | n/a | 1.25 | n/a | n/a | n/a |" in lines


def test_markdown_pipes_escaped() -> None:
    md = render_markdown(summarise(preds({("a|b", 1): 3})))
    assert "| a\\|b |" in md


def test_write_json_and_html(summary: RobustnessSummary, tmp_path: Path) -> None:
    path = write_json(summary, tmp_path / "r.json")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(summary.to_dict()))
    page = write_html(summary, tmp_path / "r.html").read_text(encoding="utf-8")
    assert page == render_html(summary)


def test_json_round_trip_re_renders_identically(summary: RobustnessSummary, tmp_path: Path) -> None:
    back = read_json(write_json(summary, tmp_path / "r.json"))
    assert back == summary
    assert render_html(back) == render_html(summary)
    classy = summarise(preds({("clean", 0): 3, ("fog", 1): 2}), per_class=True)
    assert read_json(write_json(classy, tmp_path / "c.json")) == classy


def test_read_json_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something/9"}', encoding="utf-8")
    with pytest.raises(InputError, match="schema"):
        read_json(bad)
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.json"):
        read_json(bad)


def test_per_class_and_worst_cell_shown() -> None:
    data = preds({("clean", 0): 3, ("fog", 1): 2, ("fog", 2): 1}, n=4)
    s = summarise(data, per_class=True, class_names=["<cube>"])
    page = render_html(s)
    assert 'id="per-class-table"' in page and "0 &lt;cube&gt;" in page
    assert "Worst cell: fog at severity 2, accuracy 25.0%" in page
    md = render_markdown(s)
    assert "- Worst cell: fog at severity 2, accuracy 25.0%" in md
    assert "| 0 &lt;cube&gt; | 75.0% (30.1–95.4%, 3/4) | 37.5% (13.7–69.4%, 3/8) |" in md


def test_baseline_extra_severities_stay_off_the_curve() -> None:
    base = preds({("clean", 0): 9, ("fog", 1): 6, ("fog", 2): 3, ("fog", 5): 1}, tag="b")
    s = summarise(preds({("clean", 0): 10, ("fog", 1): 8, ("fog", 2): 7}), baseline=base)
    doc = parse(render_html(s))
    assert sum(a.get("class") == "baseline-pt" for _, a in doc.tags) == 3
    assert s.row("fog").ce == pytest.approx((0.2 + 0.3) / (0.4 + 0.7))
