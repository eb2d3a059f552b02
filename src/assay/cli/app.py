"""The ``assay`` command line. Exit codes: 0 ok, 1 a gate failed, 2 bad usage or input."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from assay.errors import AssayError

app = typer.Typer(
    name="assay",
    help="Test, score and guard AI systems used where mistakes hurt people.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _register() -> None:
    from assay.cli import attacks, generate, guard, judges, perception, plugins, runs, scan

    scan.register(app)
    runs.register(app)
    generate.register(app)
    judges.register(app)
    attacks.register(app)
    guard.register(app)
    perception.register(app)
    plugins.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the typer app, turning assay errors into one line and an exit code."""
    _register()
    try:
        rv = app(args=argv, standalone_mode=False)
    except AssayError as exc:  # UsageError, InputError, StoreError, MissingDependency ...
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except KeyboardInterrupt:
        err_console.print("interrupted; run the same command again to resume")
        return 130
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return 2
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
