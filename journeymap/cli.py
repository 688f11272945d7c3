"""The ``journeymap`` command: a thin layer over the library.

Each command parses its options and calls one library function. Heavy
libraries are imported inside the commands so ``--help`` answers at once.
Errors in the user's input exit with status 1 and ``FILE:LINE:COLUMN:``
messages; wrong usage exits with 2 (click's convention).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .analysis import Analysis
    from .model import Journey

PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


class _Group(click.Group):
    """Turns user errors into clean messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        from .errors import JourneyError

        try:
            return super().invoke(ctx)
        except JourneyError as exc:
            for line in str(exc).splitlines():
                click.echo(line if exc.problems else f"error: {line}", err=True)
            if exc.problems:
                n = len(exc.problems)
                files = len({p.file for p in exc.problems})
                click.echo(
                    f"{n} problem{'s' * (n != 1)} in {files} file{'s' * (files != 1)}", err=True
                )
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="journeymap")
def cli() -> None:
    """Customer journeys as code: validate, analyse and render journey files.

    A journey is a YAML (or JSON) file of stages, touchpoints, transitions and
    outcomes. PATH may be a file or a folder of journeys.
    """


def _load(paths: tuple[Path, ...]) -> list[Journey]:
    import gc

    from .loader import load_all

    journeys = load_all(paths)
    # The journeys live until the command ends; keep the cyclic collector from
    # rescanning their millions of objects while the analysis runs (seconds on a
    # 100,000-touchpoint journey).
    gc.freeze()
    return journeys


def _is_many(paths: tuple[Path, ...]) -> bool:
    return len(paths) > 1 or any(p.is_dir() for p in paths)


@cli.command()
@PATHS
def validate(paths: tuple[Path, ...]) -> None:
    """Check journey files; print every problem with its file, line and column."""
    for j in _load(paths):
        click.echo(
            f"ok  {j.source}  ({j.journey}: {len(j.stages)} stages,"
            f" {len(j.touchpoints)} touchpoints, {len(j.outcomes)} outcomes)"
        )


@cli.command()
@PATHS
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json is a stable interface for scripts.",
)
def analyze(paths: tuple[Path, ...], fmt: str) -> None:
    """Dead ends, unreachable touchpoints, traps, loops, drop-off and success probability."""
    from .analysis import analyze as run

    results = [run(j) for j in _load(paths)]
    if fmt == "json":
        data: Any = [r.to_dict() for r in results]
        if not _is_many(paths):
            data = data[0]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for i, r in enumerate(results):
        if i:
            click.echo()
        click.echo(_table(r))


def _table(r: Analysis) -> str:
    from .dot import percent

    lines = [f"{r.title} ({r.journey})", "=" * len(f"{r.title} ({r.journey})")]
    lines.append("Success probability by entry:")
    for entry, p in r.success_probability.items():
        lines.append(f"  {entry:<32} {percent(p):>7}")

    def listing(name: str, items: list[str], why: str) -> None:
        lines.append(f"{name} ({len(items)}): {why}")
        lines.extend(f"  - {i}" for i in items) if items else lines.append("  none")

    listing("Dead ends", r.dead_ends, "touchpoints with no next step")
    listing("Traps", r.traps, "reachable, but no success outcome can be reached from them")
    listing("Unreachable", r.unreachable, "no entry leads here")
    lines.append(f"Loops ({len(r.loops)}):")
    lines.extend(f"  - {' -> '.join(loop)}" for loop in r.loops) if r.loops else lines.append(
        "  none"
    )
    lines.append(f"Drop-off ({len(r.drop_off)}): share of customers who leave at a touchpoint")
    for tp, share in sorted(r.drop_off.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {tp:<32} {percent(share):>7}")
    return "\n".join(lines)


@cli.command()
@PATHS
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder to write the maps into.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "pdf", "png", "dot"]),
    default="svg",
    show_default=True,
)
@click.option("--theme", default=None, help="default, print, colorblind, or a theme file (YAML).")
@click.option(
    "--dpi", type=click.IntRange(36, 1200), default=None, help="Resolution of PNG output."
)
def render(
    paths: tuple[Path, ...], outdir: Path, fmt: str, theme: str | None, dpi: int | None
) -> None:
    """Draw journey maps into OUTPUT/<journey>.<format>."""
    from .rendering import render_files
    from .themes import get_theme

    t = get_theme(theme)
    for path in render_files(_load(paths), outdir, fmt, theme=t, dpi=dpi):
        click.echo(f"wrote {path}")


# Lost paths (#3) -------------------------------------------------------------


# Canvas, worksheets and cards (#4) ----------------------------------------------


# The HTML report (#5) -----------------------------------------------------------


def main() -> None:
    cli(prog_name="journeymap")


if __name__ == "__main__":  # pragma: no cover
    main()
