"""PM4Py doing what ``journeymap discover`` does, as one process: the peer of benchmarks/logs.py.

    PYTHON pm4py_peer.py xes LOG.xes[.gz] OUT.json
    PYTHON pm4py_peer.py csv LOG.csv OUT.json [CASE ACTIVITY TIMESTAMP]
    PYTHON pm4py_peer.py csv-polars LOG.csv OUT.json CASE ACTIVITY TIMESTAMP

Run only by the interpreter of a throwaway virtual environment holding PM4Py
(benchmarks/data/pm4py-venv): PM4Py is AGPL-3.0, a peer to measure against and
never imported by journeymap. It reads the log with PM4Py's defaults (``read_xes``
as installed; ``pandas.read_csv`` + ``format_dataframe``), then finds what
``discover`` writes: events per activity, the directly-follows counts, the start
and end counts (``discover_dfg``) and the median wait of each pair
(``discover_performance_dfg``). Writing them as JSON is part of the timed run,
as writing the journey file is part of journeymap's.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    import pm4py

    kind, path, out = sys.argv[1:4]
    if kind == "xes":
        df = pm4py.read_xes(path)  # with r4pm installed, PM4Py's Rust importer
    elif kind == "csv-polars":  # PM4Py on a polars LazyFrame (needs polars installed)
        import polars as pl

        case, activity, timestamp = sys.argv[4:7]
        lf = pl.scan_csv(path, schema_overrides={case: pl.Utf8}).with_columns(
            pl.col(timestamp).str.to_datetime(time_zone="UTC")
        )
        df = pm4py.format_dataframe(
            lf, case_id=case, activity_key=activity, timestamp_key=timestamp
        )
    else:
        import pandas as pd

        case, activity, timestamp = (sys.argv[4:7] if len(sys.argv) > 4 else
                                     ("case:concept:name", "concept:name", "time:timestamp"))  # fmt: skip
        df = pm4py.format_dataframe(
            pd.read_csv(path), case_id=case, activity_key=activity, timestamp_key=timestamp
        )
    dfg, start, end = pm4py.discover_dfg(df)
    perf, _, _ = pm4py.discover_performance_dfg(df, perf_aggregation_key="median")
    if kind == "csv-polars":
        found = df.group_by("concept:name").len().collect().iter_rows()
        counts = {str(k): int(v) for k, v in found}
    else:
        counts = {str(k): int(v) for k, v in df["concept:name"].value_counts().items()}
    result = {
        "activities": counts,
        "dfg": [[a, b, int(n)] for (a, b), n in dfg.items()],
        "start": {str(k): int(v) for k, v in start.items()},
        "end": {str(k): int(v) for k, v in end.items()},
        "median_s": [
            [a, b, float(v["median"] if isinstance(v, dict) else v)] for (a, b), v in perf.items()
        ],
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
