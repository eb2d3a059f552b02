"""``assay plugins``: what suites, targets, judges, attacks and metrics are installed."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from assay.core.registry import GROUPS, registry


def plugins_command() -> None:
    """List every registered plugin with a one-line description."""
    console = Console()
    for group in GROUPS:
        table = Table(title=group, title_justify="left", show_edge=False)
        table.add_column("name", style="cyan", no_wrap=True)
        table.add_column("from")
        table.add_column("what it is")
        infos = registry.describe(group)
        for info in infos:
            table.add_row(info.name, info.distribution, info.description)
        if not infos:
            table.add_row("-", "", "(none installed)")
        console.print(table)
        console.print()


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins_command)
