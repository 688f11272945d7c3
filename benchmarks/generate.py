"""Synthetic journeys of any size, for the benchmarks.

Shaped like real ones, only bigger: stages in order, most transitions forward
to the next stage or two, some within a stage, a few back to an earlier stage
(rework loops), some to outcomes, numbers on most touchpoints (probabilities
or volumes) with drop-off, and a few dead ends. The same arguments always
give the same file.

    python benchmarks/generate.py --touchpoints 10000 --transitions 35000 -o big.yaml
    python benchmarks/generate.py --touchpoints 100000 --transitions 1000000 -o huge.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any


def journey(touchpoints: int, transitions: int, stages: int = 0, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    stages = stages or max(2, min(60, touchpoints // 40))
    per_stage = [touchpoints // stages + (k < touchpoints % stages) for k in range(stages)]
    ids: list[list[str]] = []
    n = 0
    for size in per_stage:
        ids.append([f"t{n + i}" for i in range(size)])
        n += size
    outcomes = [
        {"id": "placed", "result": "success"},
        {"id": "hired", "result": "success"},
        {"id": "gave-up", "result": "lost"},
        {"id": "dispute", "result": "lost"},
    ]
    base, extra = divmod(transitions, max(1, touchpoints))
    tps: list[dict[str, Any]] = []
    every = [(k, i) for k in range(stages) for i in ids[k]]
    for k, ident in every:
        count = base + (rng.random() < extra / max(1, touchpoints))
        if rng.random() < 0.01:
            count = 0  # a dead end
        pool = len(ids[k]) + (len(ids[k + 1]) if k + 1 < stages else 4)
        count = min(count, pool)
        targets: set[str] = set()
        while len(targets) < count:
            r = rng.random()
            if k == stages - 1 and r < 0.6:
                targets.add(rng.choice(["placed", "hired", "gave-up", "dispute"]))
            elif r < 0.06 and k > 0:
                targets.add(rng.choice(ids[rng.randrange(max(0, k - 3), k)]))  # rework
            elif r < 0.10:
                targets.add(rng.choice(["gave-up", "dispute", "placed"]))
            elif r < 0.25 or k == stages - 1:
                targets.add(rng.choice(ids[k]))
            else:
                nxt = min(stages - 1, k + rng.choice((1, 1, 1, 2)))
                targets.add(rng.choice(ids[nxt]))
        tp: dict[str, Any] = {
            "id": ident,
            "title": f"Touchpoint {ident[1:]}",
            "stage": f"s{k}",
            # Teams own stretches of a journey; one touchpoint in five is another team's.
            "owner": f"Team {k % 12 if rng.random() < 0.8 else rng.randrange(12)}",
            "channel": rng.choice(["web", "phone", "email", "in person", "app"]),
            "importance": {"customer": rng.randint(1, 5), "company": rng.randint(1, 5)},
            "quality": rng.randint(1, 5),
            "emotion": rng.randint(-2, 2),
        }
        order = sorted(targets)
        kind = rng.random()
        nxt_list: list[Any]
        if kind < 0.6 and order:
            weights = [rng.random() + 0.05 for _ in order]
            keep = rng.uniform(0.7, 1.0) / sum(weights)
            nxt_list = [
                {"to": t, "probability": round(w * keep, 6)}
                for t, w in zip(order, weights, strict=True)
            ]
        elif kind < 0.8 and order:
            tp["volume"] = 1000
            vols = [rng.randrange(1, 1000 // len(order) + 1) for _ in order]
            nxt_list = [{"to": t, "volume": v} for t, v in zip(order, vols, strict=True)]
        else:
            nxt_list = list(order)
        if nxt_list and rng.random() < 0.05:
            first = nxt_list[0]
            if isinstance(first, dict):
                first["wait"] = "2w"
        if nxt_list:
            tp["next"] = nxt_list
        tps.append(tp)
    return {
        "journey": f"synthetic-{touchpoints}",
        "title": f"Synthetic journey of {touchpoints} touchpoints",
        "stages": [{"id": f"s{k}", "title": f"Stage {k}"} for k in range(stages)],
        "touchpoints": tps,
        "outcomes": outcomes,
        "entries": ids[0][: max(1, min(5, len(ids[0])))],
    }


def dump(data: dict[str, Any], path: Path) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(data, separators=(",", ":")))
        return
    import yaml

    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, width=200))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--touchpoints", type=int, required=True)
    ap.add_argument("--transitions", type=int, required=True)
    ap.add_argument("--stages", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", type=Path, required=True)
    a = ap.parse_args()
    a.output.parent.mkdir(parents=True, exist_ok=True)
    dump(journey(a.touchpoints, a.transitions, a.stages, a.seed), a.output)


if __name__ == "__main__":
    main()
