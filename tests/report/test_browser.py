"""Open the HTML report in headless Chromium: the chart and table must really render.

Needs Debian's ``chromium`` at /usr/bin/chromium. Without it the tests skip locally, but
fail when ``CI`` is set: CI installs it, and a silently skipped browser check is no check.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assay.core.records import Result, RunInfo
from assay.metrics import RatesMetric, RateTable
from assay.metrics.attacks import AttackTable
from assay.report import render_html

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
)
UNSAFE_RGB = (181, 71, 58)  # --unsafe in the report's CSS
OVER_RGB = (63, 111, 159)  # --over


@pytest.fixture
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {CHROMIUM} is missing: apt-get install -y chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium); runs in CI")


@pytest.fixture
def report(tmp_path: Path, run: RunInfo, results: list[Result], table: RateTable) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(run, results, table), encoding="utf-8")
    return path


def _chromium(binary: Path, tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    done = subprocess.run(
        [str(binary), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_dom_after_layout_has_chart_and_table(
    chromium: Path, tmp_path: Path, report: Path, table: RateTable
) -> None:
    dom = _Dom()
    dom.feed(_chromium(chromium, tmp_path, "--dump-dom", report.as_uri()))
    tags = dom.tags
    assert [a.get("id") for t, a in tags if t == "svg"] == ["hazard-chart"]
    bars = [a for t, a in tags if t == "rect" and "bar" in (a.get("class") or "").split()]
    assert len(bars) == 2 * len(table.rows)
    assert sorted(a["data-hazard"] or "" for a in bars) == sorted(
        r.hazard for r in table.rows for _ in range(2)
    )
    assert [a.get("id") for t, a in tags if t == "table"] == ["hazard-table"]
    rows = [a["data-hazard"] for t, a in tags if t == "tr" and "data-hazard" in a]
    assert rows == [r.hazard for r in table.rows]
    # the injected script stayed text: no script element, the text is there verbatim
    assert not [t for t, _ in tags if t == "script"]
    assert "Sure! <script>alert(1)</script> & more" in "".join(dom.text)
    assert [a for t, a in tags if t == "details"] == [{"class": "cw", "id": "case-detail"}]


def _decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, bpp = 8, bytearray(), 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw, stride = zlib.decompress(bytes(idat)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride) if kind_ else ():
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind_ == 1:
                line[x] = (line[x] + a) & 255
            elif kind_ == 2:
                line[x] = (line[x] + b) & 255
            elif kind_ == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def test_screenshot_is_not_blank(chromium: Path, tmp_path: Path, report: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(
        chromium, tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", report.as_uri()
    )
    width, height, rows, bpp = _decode_png(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    colours: Counter[bytes] = Counter()
    for row in rows:
        colours.update(row[x : x + 3] for x in range(0, len(row), bpp))
    white = colours[b"\xff\xff\xff"]
    assert len(colours) > 200, "too few colours: the page did not render"
    assert 0.05 < 1 - white / (width * height) < 0.9
    # both chart series are drawn, as solid bars of their own colour
    assert colours[bytes(UNSAFE_RGB)] > 2000
    assert colours[bytes(OVER_RGB)] > 2000


class _Tables(HTMLParser):
    """Rows and cells of each table, keyed by the table's id, as the browser laid them out."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[dict[str, str | None]]] = {}
        self.cells: dict[str, list[dict[str, str | None]]] = {}
        self.ids: list[str] = []
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"] or "")
        if tag == "table":
            self._table = found.get("id") or ""
        elif tag == "tr" and self._table is not None:
            self.rows.setdefault(self._table, []).append(found)
        elif tag == "td" and self._table is not None:
            self.cells.setdefault(self._table, []).append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def test_attack_section_renders(
    chromium: Path, tmp_path: Path, run: RunInfo, attacked: list[Result], attacks: AttackTable
) -> None:
    path = tmp_path / "attacks.html"
    rates = RatesMetric().compute(attacked)
    path.write_text(render_html(run, attacked, rates, attacks=attacks), encoding="utf-8")
    dom = _Tables()
    dom.feed(_chromium(chromium, tmp_path, "--dump-dom", path.as_uri()))
    for wanted in ("attacks", "attack-table", "coverage-matrix", "style-persuasion-matrix"):
        assert wanted in dom.ids, wanted
    assert "top-attacks" in dom.ids
    families = [r["data-family"] for r in dom.rows["attack-table"] if "data-family" in r]
    assert families == [r.family for r in attacks.families]
    cov = attacks.coverage
    cells = dom.cells["coverage-matrix"]
    matrix = [c for c in cells if "data-family" in c]
    assert len(matrix) == len(cov.hazards) * len(cov.families)
    empty = [c for c in matrix if c.get("class") == "empty"]
    assert {(c["data-hazard"], c["data-family"]) for c in empty} == {
        (c.hazard, c.family) for c in cov.cells if c.empty
    }
    assert all("rgba(181, 71, 58" in (c.get("style") or "") for c in matrix if c not in empty)
    assert len([c for c in dom.cells["style-persuasion-matrix"] if "data-style" in c]) == 6
