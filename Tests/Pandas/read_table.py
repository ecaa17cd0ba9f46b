#!/usr/bin/env python3
"""Reads a protected table into pandas from the broker's CSV, as a researcher would, with the status columns kept.

Usage: SDE_TOKEN=... python3 Tests/Pandas/read_table.py http://127.0.0.1:8080

Runs `requests-by-la-quarter` of project P2025-002 as CSV, reads it with pandas and checks what the README promises:
one column per dimension (empty = a total), then per measure a value column and a `<measure>_status` column; a
suppressed cell has no value (NaN, never 0) and says `suppressed`. Exits 0 when all holds, 1 when not, 3 without pandas.
"""

import io
import json
import os
import sys
import urllib.request

try:
    import pandas as pd
except ImportError:
    print("pandas is not installed: python3 -m pip install pandas", file=sys.stderr)
    sys.exit(3)


def read_protected_table(base, token, project, query, parameters):
    """The protected table of one run, as a DataFrame: dimensions as text, values as numbers, statuses kept."""
    request = urllib.request.Request(
        f"{base}/v1/projects/{project}/queries/{query}/runs?format=csv",
        data=json.dumps({"parameters": parameters}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        text = response.read().decode("utf-8")
    header = text.split("\r\n", 1)[0].split(",")
    statuses = [name for name in header if name.endswith("_status")]
    measures = [name[: -len("_status")] for name in statuses]
    dimensions = [name for name in header if name not in statuses and name not in measures]
    # Dimensions and statuses stay text (an empty dimension is a total, not a missing value); an empty value is NaN.
    return pd.read_csv(
        io.StringIO(text), dtype={name: str for name in dimensions + statuses}, keep_default_na=False, na_values={m: [""] for m in measures}
    ), dimensions, measures


def main():
    base, token = sys.argv[1], os.environ["SDE_TOKEN"]
    table, dimensions, measures = read_protected_table(base, token, "P2025-002", "requests-by-la-quarter", {"from": "2023Q2", "to": "2024Q1"})
    problems = []
    if not measures:
        problems.append("no measure with a status column")
    for measure in measures:
        status = table[measure + "_status"]
        if not status.isin(["released", "perturbed", "rounded", "suppressed"]).all():
            problems.append(f"{measure}_status has an unknown status")
        suppressed = status == "suppressed"
        if not table.loc[suppressed, measure].isna().all():
            problems.append(f"a suppressed {measure} cell has a value")
        if table.loc[~suppressed, measure].isna().any():
            problems.append(f"a {measure} cell that is not suppressed has no value")
        if not pd.api.types.is_numeric_dtype(table[measure]):
            problems.append(f"{measure} is not numeric")
    totals = table[(table[dimensions] == "").all(axis=1)]
    if len(totals) != 1:
        problems.append("not exactly one grand total row")
    print(f"{len(table)} rows, dimensions {dimensions}, measures {measures}; suppressed cells: "
          + ", ".join(f"{m} {int((table[m + '_status'] == 'suppressed').sum())}" for m in measures))
    for problem in problems:
        print("PROBLEM:", problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
