#!/usr/bin/env bash
# Wheels the GPU machine's image lacks (Python 3.12, torch and jax with CUDA, numpy, scipy, pandas,
# pytest, mpmath are there; no network), downloaded here into .whl/ for the device call to carry.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
  python-flint gmpy2 asv asv_runner hypothesis sortedcontainers pytest-benchmark py-cpuinfo tabulate \
  json5 pympler pyyaml distributed dask cloudpickle toolz tblib zict msgpack psutil tornado locket \
  partd fsspec click tqdm matplotlib contourpy cycler fonttools kiwisolver pyparsing pillow "$@"
du -sh .whl
