"""Every attack family against the real embedded model, offline, then the report in Chromium.

Small on purpose (one violent-crimes case pair, short answers): it proves the whole path
works for each family; the README's figures come from the full scan in docs/attacks.md.
"""

from __future__ import annotations

import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assay.cli.app import main
from assay.core.registry import registry
from assay.store import Store

CHROMIUM = Path("/usr/bin/chromium")

#: One cheap variant per family; any family missing here fails the test below.
FAMILIES = {
    "template": "template:prefix_injection",
    "encoding": "encoding:base64",
    "seval": "seval:goal_hijacking",
    "persona": "persona:mercenary",
    "mitigation": "mitigation:safety_system_prompt",
    "longcontext": "longcontext:1k-middle",
    "injection": "injection:document",
    "extraction": "extraction:repeat_verbatim",
    "multiturn": "multiturn:foot_in_the_door",
    "astral": "astral:slang+expert_endorsement",
    "translate": "translate:placeholder",
}


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.cells: list[dict[str, str | None]] = []
        self.rows: list[dict[str, str | None]] = []
        self._table: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "table":
            self._table.append(str(found.get("id") or ""))
        if tag == "td" and self._table and self._table[-1] == "coverage-matrix":
            self.cells.append(found)
        if tag == "tr" and self._table and self._table[-1] == "attack-table":
            self.rows.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._table:
            self._table.pop()


def test_every_family_is_exercised_here() -> None:
    chat = {
        name
        for name in registry.names("attacks")
        if getattr(registry.get("attacks", name), "applies_to", "chat") == "chat"
    }
    assert set(FAMILIES) == chat


def test_every_attack_family_on_the_embedded_model(tmp_path: Path) -> None:
    db, out = tmp_path / "a.db", tmp_path / "out"
    args = ["scan", "--hazard", "vcr", "--limit", "2"]
    for ref in FAMILIES.values():
        args += ["-a", ref]
    args += ["-T", "max_new_tokens=12", "-T", "threads=1", "--db", str(db), "--out", str(out)]
    assert main([*args, "--quiet"]) == 0
    store = Store(db)
    run = store.get_run("latest")
    results = store.results(run.id)
    assert run.state == "finished"
    families = {r.attempt.family for r in results}
    assert families == {"", *FAMILIES}
    for r in results:
        assert r.response.ok, (r.attempt.label, r.response.error_detail)
    by_family = {r.attempt.family: r for r in results if r.attempt.case.expected == "refuse"}
    turns = by_family["multiturn"].response.transcript
    assert len(turns) == 2 * by_family["multiturn"].attempt.detail("turns")
    assert by_family["injection"].verdicts[0].judge.name == "canary"
    assert by_family["encoding"].response.raw_text is not None
    html = (out / run.id / "report.html").read_text(encoding="utf-8")
    assert 'id="attack-table"' in html and 'id="coverage-matrix"' in html

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {CHROMIUM} is missing")
        pytest.skip("chromium not installed")
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            (out / run.id / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    parsed = _Ids()
    parsed.feed(dom)
    assert {"attacks", "attack-table", "coverage-matrix", "top-attacks"} <= set(parsed.ids)
    shown = {row.get("data-family") for row in parsed.rows if row.get("data-family")}
    assert set(FAMILIES) <= shown, shown
    assert {c.get("data-family") for c in parsed.cells} >= set(FAMILIES)
