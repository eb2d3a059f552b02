"""``assay attacks``: every attack family, its variants and how to ask for them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from assay.core.registry import registry


def attacks_command(
    family: Annotated[
        str | None, typer.Argument(help="Show one family's variants in full.")
    ] = None,
) -> None:
    """List attack families and their variants (use as --attack FAMILY[:VARIANT])."""
    console = Console()
    table = Table(show_edge=False)
    table.add_column("family", style="cyan", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("variants")
    table.add_column("what it does")
    names = [family] if family else registry.names("attacks")
    for name in names:
        attack = registry.create("attacks", name)
        info = next((i for i in registry.describe("attacks") if i.name == name), None)
        names_fn = getattr(attack, "variant_names", None)
        variants = tuple(names_fn()) if callable(names_fn) else ()
        shown = ", ".join(variants if family or len(variants) <= 8 else (*variants[:8], "..."))
        table.add_row(name, str(len(variants)), shown, info.description if info else "")
    console.print(table)
    console.print(
        "\nExamples: --attack encoding:base64   --attack template,sample=2   "
        "--attack 'persona:mercenary>encoding:rot13'"
    )


def register(app: typer.Typer) -> None:
    app.command("attacks")(attacks_command)
