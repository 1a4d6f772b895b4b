#!/usr/bin/env bash
# asv's reading of the same ~2 µs call with and without a setup method, beside timeit's.
#   experiments/asv_setup_overhead/run.sh [ROUNDS]     (needs asv and numpy in the current Python)
# Prints, per round, asv's median for each benchmark and timeit's best-of-median for the call.
set -euo pipefail
cd "$(dirname "$0")"
# after the cd: a relative PATH entry (PATH=.venv/bin:...) no longer finds asv, and every round would come back empty
command -v asv >/dev/null || { echo "run.sh: asv is not on PATH from $(pwd); put an absolute directory on PATH (PATH=\$PWD/.venv/bin:\$PATH)" >&2; exit 2; }
rounds=${1:-5}
python -c 'import asv_runner, numpy; print("asv_runner", asv_runner.__version__ if hasattr(asv_runner, "__version__") else "?", "numpy", numpy.__version__)' 2>/dev/null || true
for r in $(seq "$rounds"); do
  find .asv/results -name "*.json" ! -name machine.json -delete 2>/dev/null || true
  asv machine --yes --config asv.conf.json >/dev/null 2>&1 || true
  asv run -E "existing:$(command -v python)" --set-commit-hash "$(git rev-parse HEAD)" --show-stderr >/dev/null 2>&1 || true
  python - <<'PY'
import glob, json, timeit, statistics
import numpy as np
X = np.ones(16)
t = timeit.Timer("X.sum()", globals={"X": X})
n, _ = t.autorange()
ti = statistics.median(x / n for x in t.repeat(repeat=7, number=n))
res = {}
for f in glob.glob(".asv/results/*/*.json"):
    if f.endswith("machine.json"):
        continue
    d = json.load(open(f))
    cols = d["result_columns"]
    for name, vals in d["results"].items():
        res[name.split(".", 1)[1]] = dict(zip(cols, vals))["result"][0]
print(f"timeit {ti*1e6:.3f} µs | " + " | ".join(f"{k} {v*1e6:.3f} µs ({v/ti:.2f}×)" for k, v in sorted(res.items())))
PY
done
