"""The attack section of every report format: JSON, Markdown, HTML and the terminal."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from rich.console import Console

from assay.core.records import Result, RunInfo
from assay.metrics import RatesMetric, RateTable
from assay.metrics.attacks import AttackMetric, AttackTable
from assay.report import render_html, render_json, render_markdown, render_terminal
from assay.report.terminal import render_attacks_terminal

XSS = "<script>alert(1)</script>"


class _Cells(HTMLParser):
    """Start tags with attributes, and the text of every td (by its attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[tuple[dict[str, str | None], str]] = []
        self._td: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self._td, self._text = dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._td is not None:
            self.cells.append((self._td, "".join(self._text)))
            self._td = None

    def handle_data(self, data: str) -> None:
        if self._td is not None:
            self._text.append(data)


def _parse(page: str) -> _Cells:
    parser = _Cells()
    parser.feed(page)
    return parser


def _rates(results: list[Result]) -> RateTable:
    return RatesMetric().compute(results)


# -- JSON --------------------------------------------------------------------------------


def test_json_has_attack_section(run: RunInfo, attacked: list[Result]) -> None:
    data = json.loads(render_json(run, attacked, _rates(attacked)))
    section = data["attacks"]
    table = AttackTable.model_validate(section["table"])
    assert table == AttackMetric().compute(attacked)  # defaults when none is passed
    assert [r.family for r in table.families] == ["direct", "astral", "encoding", "safety_prompt"]
    enc = table.family("encoding")
    assert (enc.asr.k, enc.asr.n, enc.errors) == (18, 32, 1)
    assert enc.lift is not None and enc.lift.n_cases == 16
    assert {"asr", "lift", "lift_interval", "coverage", "mitigation"} <= set(section["definitions"])
    assert any("mitigation" in n for n in section["notes"])
    # the keys every report had stay as they were
    assert {"schema_version", "kind", "run", "denominators", "rates", "results"} < set(data)
    assert data["schema_version"] == 1


def test_json_without_attacks_has_no_section(
    run: RunInfo, results: list[Result], table: RateTable
) -> None:
    assert "attacks" not in json.loads(render_json(run, results, table))


def test_json_uses_the_given_table(run: RunInfo, attacked: list[Result]) -> None:
    given = AttackMetric(min_n=1, n_boot=20).compute(attacked)
    data = json.loads(render_json(run, attacked, _rates(attacked), attacks=given))
    assert data["attacks"]["table"]["min_n"] == 1


def test_json_says_when_there_is_no_baseline(run: RunInfo, attacked: list[Result]) -> None:
    only = [r for r in attacked if r.attempt.attacks]
    section = json.loads(render_json(run, only, _rates(only)))["attacks"]
    assert any("no direct baseline" in n for n in section["notes"])
    assert all(f["lift"] is None for f in section["table"]["families"])


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_attack_tables(run: RunInfo, attacked: list[Result], attacks: AttackTable) -> None:
    md = render_markdown(run, attacked, _rates(attacked), attacks=attacks)
    assert md.index("## Per hazard") < md.index("## Attacks") < md.index("## Judges")
    for heading in (
        "### Per attack variant",
        "### Coverage (hazard × attack family)",
        "### Style × persuasion",
        "### Most effective attacks per hazard (at least 5 scored)",
    ):
        assert heading in md
    line = next(ln for ln in md.splitlines() if ln.startswith("| encoding |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    lift = attacks.family("encoding").lift
    assert lift is not None
    assert cells[:5] == ["encoding", "33", "56.2%", "39.3–71.8%", lift.fmt_delta()]
    assert "| safety\\_prompt (mitigation) |" in md
    assert "| `hte` | 0% (0/1) | — | — | — |" in md  # empty coverage cells are explicit
    assert XSS not in md and "encoding:\\<script\\>alert(1)\\</script\\>" in md
    assert "- `vcr`: encoding:base64 75.0% (6/8);" in md


def test_markdown_without_attacks_or_baseline(
    run: RunInfo, results: list[Result], table: RateTable, attacked: list[Result]
) -> None:
    assert "## Attacks" not in render_markdown(run, results, table)
    only = [r for r in attacked if r.attempt.attacks]
    md = render_markdown(run, only, _rates(only))
    assert "_No direct baseline: the run sent no unattacked attempts" in md
    assert "| encoding | 33 | 56.2% | 39.3–71.8% | no direct baseline |" in md


# -- HTML --------------------------------------------------------------------------------


def test_html_attack_section(run: RunInfo, attacked: list[Result], attacks: AttackTable) -> None:
    page = render_html(run, attacked, _rates(attacked), attacks=attacks)
    dom = _parse(page)
    ids = [a.get("id") for _, a in dom.tags if a.get("id")]
    for wanted in (
        "attacks",
        "attack-table",
        "coverage-matrix",
        "style-persuasion-matrix",
        "top-attacks",
    ):
        assert wanted in ids, wanted
    assert ids.index("rates") < ids.index("attacks") < ids.index("judges")
    rows = [a for t, a in dom.tags if t == "tr" and "data-family" in a and not a["data-label"]]
    assert [a["data-family"] for a in rows] == [r.family for r in attacks.families]
    assert "mitigation" in (rows[-1].get("class") or "")
    lift = attacks.family("encoding").lift
    assert lift is not None and f"<td>{lift.fmt_delta()}</td>" in page


def test_html_coverage_cells_are_shaded_or_marked_empty(
    run: RunInfo, attacked: list[Result], attacks: AttackTable
) -> None:
    dom = _parse(render_html(run, attacked, _rates(attacked), attacks=attacks))
    cells = {
        (a["data-hazard"], a["data-family"]): (a, text)
        for a, text in dom.cells
        if "data-hazard" in a and "data-family" in a
    }
    cov = attacks.coverage
    assert set(cells) == {(h, f) for h in cov.hazards for f in cov.families}
    empty, text = cells[("hte", "encoding")]
    assert empty["class"] == "empty" and text == "—" and "style" not in empty
    full, text = cells[("vcr", "encoding")]
    assert full["class"] == "cell" and text == "56%9/16"
    low, _ = cells[("vcr", "safety_prompt")]
    shade = re.compile(r"rgba\(181, 71, 58, ([0-9.]+)\)")
    alpha_full = float(shade.findall(full["style"] or "")[0])
    alpha_low = float(shade.findall(low["style"] or "")[0])
    assert alpha_full > alpha_low > 0  # darker where the ASR is higher


def test_html_style_matrix_and_top(
    run: RunInfo, attacked: list[Result], attacks: AttackTable
) -> None:
    dom = _parse(render_html(run, attacked, _rates(attacked), attacks=attacks))
    style_cells = [a for a, _ in dom.cells if "data-style" in a]
    assert len(style_cells) == 6
    top = [a["data-hazard"] for t, a in dom.tags if t == "li" and "data-hazard" in a]
    assert top == ["vcr", "ncr"]


def test_html_escapes_attack_names(run: RunInfo, attacked: list[Result]) -> None:
    page = render_html(run, attacked, _rates(attacked))
    assert 'id="attack-table"' in page
    assert XSS not in page
    assert "encoding:&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not [t for t, _ in _parse(page).tags if t == "script"]


def test_html_without_attacks_has_no_section(
    run: RunInfo, results: list[Result], table: RateTable
) -> None:
    assert 'id="attacks"' not in render_html(run, results, table)


def test_html_without_baseline(run: RunInfo, attacked: list[Result]) -> None:
    only = [r for r in attacked if r.attempt.attacks]
    page = render_html(run, only, _rates(only))
    assert "No direct baseline" in page
    assert "<td>no direct baseline</td>" in page


# -- terminal ----------------------------------------------------------------------------


def test_terminal_attack_table(run: RunInfo, attacked: list[Result], attacks: AttackTable) -> None:
    console = Console(record=True, width=160, force_terminal=True)
    render_terminal(run, _rates(attacked), console, attacks=attacks)
    text = console.export_text()
    assert text.index("Hazard") < text.index("Attacks")
    lift = attacks.family("encoding").lift
    assert lift is not None
    assert re.search(rf"encoding +33 +56\.2% .* {re.escape(lift.fmt_delta())}", text)
    assert "direct (no attack)" in text and "baseline" in text
    assert "safety_prompt (mitigation)" in text
    assert "negative lift" in text


def test_terminal_narrow_without_baseline(attacked: list[Result]) -> None:
    console = Console(record=True, width=80)
    only = [r for r in attacked if r.attempt.attacks]
    render_attacks_terminal(AttackMetric(n_boot=20).compute(only), console)
    text = console.export_text()
    assert "no direct baseline" in text
    assert "Lift CI" not in text  # compact on a narrow terminal


def test_terminal_without_attacks_prints_no_table(run: RunInfo, table: RateTable) -> None:
    console = Console(record=True, width=160)
    render_terminal(run, table, console, attacks=None)
    assert "Attacks" not in console.export_text()


def test_benign_over_refusal_table_when_a_mitigation_touched_benign_cases(
    run: RunInfo, mitigated_benign: list[Result]
) -> None:
    results = mitigated_benign
    table = AttackMetric(n_boot=50).compute(results)
    html = render_html(run, results, RatesMetric().compute(results), attacks=table)
    assert 'id="benign-table"' in html and 'data-family="safety_prompt"' in html
    md = render_markdown(run, results, RatesMetric().compute(results), attacks=table)
    assert "### Benign cases: over-refusal per family" in md
    assert "| safety\\_prompt (mitigation) | 2 | 50.0%" in md
