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


def _keys(df: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    return df.reindex(columns=list(key)).astype(str).agg("\x1f".join, axis=1)


def merge(path: str | os.PathLike, new: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """``new`` merged into the table at ``path``: rows of ``new`` replace the rows with the same
    ``key``; every other row already there is kept. Written atomically; returns the merged table."""
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        old = read(path)
        if not new.empty:
            old = old[~_keys(old, key).isin(set(_keys(new, key)))]
        merged = pd.concat([old, new], ignore_index=True) if not old.empty else new.reset_index(drop=True)
    else:
        merged = new.reset_index(drop=True)
    if not merged.empty:
        present = [k for k in key if k in merged.columns]
        try:
            merged = merged.sort_values(present, kind="stable")
        except TypeError:  # a column mixing types: order by text
            merged = merged.sort_values(present, kind="stable", key=lambda s: s.astype(str))
        merged = merged.reset_index(drop=True)
    write_atomic(merged, path)
    return merged
