"""Time drawing and printing as users run them: whole processes, with baselines in the same run.

    python benchmarks/render.py          # the examples, 100 and 300 touchpoints, print paths

Each figure is the median of a few whole-process runs (machines here are noisy).
Baselines, measured in the same run: Python's own start-up with the drawing library
(``import pygraphviz``), and Graphviz alone drawing the very DOT text journeymap made
(a process that reads the DOT file and draws it, so both sides pay the same start-up).
Issue #10's targets: every command's start-up (everything but the layout, i.e.
``render --format dot``; ``validate``, ``paths``, ``inventory`` and the Mermaid text
whole) under 0.25 s; a 30-touchpoint map at most 1.5x Graphviz alone; a flow map of
100 to 300 touchpoints under 3 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from run import DATA, JM, PY, ROOT, measure

HERE = Path(__file__).resolve().parent
GRAPHVIZ = (
    "import sys, pygraphviz; g = pygraphviz.AGraph(string=open(sys.argv[1]).read());"
    " g.draw(format='svg', prog=g.graph_attr.get('layout') or 'dot')"
)


def generated(touchpoints: int, transitions: int, stages: int) -> Path:
    path = DATA / f"render{touchpoints}.yaml"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run(
            [PY, str(HERE / "generate.py"), "--touchpoints", str(touchpoints),
             "--transitions", str(transitions), "--stages", str(stages), "-o", str(path)],
            check=True,
        )  # fmt: skip
    return path


def main() -> None:
    repeat = 5
    out = DATA / "render-out"
    rows: list[tuple[str, float, str]] = []

    def run(label: str, cmd: list[str], note: str = "") -> float:
        seconds, _, _ = measure(cmd, repeat)
        rows.append((label, seconds, note))
        print(f"  {label}: {seconds:.2f} s", file=sys.stderr)
        return seconds

    # As installed (./run compiles the package's bytecode, as a wheel's install does):
    # with PYTHONDONTWRITEBYTECODE set, every run would compile every module again.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "journeymap")], check=True)
    print("measuring (medians of whole-process runs)...", file=sys.stderr)
    base = run("baseline: python -c 'import pygraphviz'", [PY, "-c", "import pygraphviz"])
    example = ROOT / "journeys" / "candidate.yaml"
    commands = {
        "validate": [],
        "paths": [],
        "inventory": ["-o", str(out / "inventory.csv")],
        "render --format mermaid": ["--format", "mermaid", "-o", str(out)],
    }
    for name, extra in commands.items():
        run(f"candidate: {name} (start-up)", [*JM, name.split()[0], str(example), *extra])
    journeys = [ROOT / "journeys" / "candidate.yaml", ROOT / "journeys" / "client.yaml"]
    journeys += [generated(100, 250, 8), generated(300, 900, 10)]
    for path in journeys:
        name = path.stem
        made = subprocess.run([*JM, "render", str(path), "--format", "dot", "-o", str(out)],
                              check=True, capture_output=True, text=True)  # fmt: skip
        dot = Path(made.stdout.split("wrote ", 1)[1].split()[0])
        start = run(f"{name}: render --format dot (start-up, no layout)", [*JM, "render", str(path), "--format", "dot", "-o", str(out)])  # fmt: skip
        alone = run(f"{name}: Graphviz alone drawing that DOT", [PY, "-c", GRAPHVIZ, str(dot)])
        svg = run(f"{name}: render (SVG)", [*JM, "render", str(path), "-o", str(out)])
        rows[-1] = (rows[-1][0], svg, f"{svg / alone:.2f}x Graphviz alone; start-up {start - base:+.2f} s over the baseline")  # fmt: skip
    for path in journeys[:2]:
        for view in ("flow", "canvas"):
            run(f"{path.stem}: render --view {view} --format pdf (A3)", [*JM, "render", str(path), "--view", view, "--format", "pdf", "-o", str(out)])  # fmt: skip
    print("\n| case | seconds | note |")
    print("|---|---:|---|")
    for label, seconds, note in rows:
        print(f"| {label} | {seconds:.2f} | {note} |")


if __name__ == "__main__":
    main()
