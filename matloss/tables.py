"""Result tables on disk: atomic writes, and merges that keep every row a run did not recompute."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def read(path: str | os.PathLike) -> pd.DataFrame:
    """A result table from CSV: only empty fields are missing (pandas would read a status or an
    error message "nan" / "NA" as a missing value)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def write_atomic(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` as CSV to a temporary file beside ``path``, then rename it: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            df.to_csv(f, index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _text(v) -> str:
    """One key field as text, the same whether it came from a CSV or from Python (8 and 8.0 agree; NaN is empty)."""
    if isinstance(v, float):
        return "" if v != v else str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _keys(df: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    cols = df.reindex(columns=list(key))
    return pd.Series(["\x1f".join(_text(v) for v in row) for row in cols.itertuples(index=False)], index=df.index)


def merge(path: str | os.PathLike, new: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """``new`` merged into the table at ``path``: a row of ``new`` replaces the row with the same
    ``key`` where it stood, a row with a new key is appended; every other row already there is
    kept as it was (so a re-run changes only the lines it recomputed). Written atomically;
    returns the merged table."""
    path = Path(path)
    new = new.reset_index(drop=True)
    if not (path.exists() and path.stat().st_size > 0) or new.empty:
        merged = read(path) if new.empty and path.exists() and path.stat().st_size > 0 else new
    else:
        old = read(path)
        old_keys, new_keys = _keys(old, key), _keys(new, key)
        where = dict(zip(old_keys, range(len(old))))
        # each new row takes the place of the old row with its key, or goes after all of them
        order_new = [where.get(k, len(old) + j) for j, k in enumerate(new_keys)]
        kept = old[~old_keys.isin(set(new_keys))].assign(_order=lambda d: d.index.to_numpy())
        merged = pd.concat([kept, new.assign(_order=order_new)], ignore_index=True)
        merged = merged.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    write_atomic(merged, path)
    return merged
