"""Callgrind client requests from Python: valgrind's own ``callgrind.h`` through a small extension.

The requests are C macros (a few instructions of inline assembly that do nothing outside
valgrind), so they cannot be called through ctypes directly: :func:`client` compiles a few
one-line C functions around them with the system C compiler, once per valgrind header, into
``~/.cache/matloss/callgrind-<hash>.so``, and loads that with ctypes. Needs ``cc`` and valgrind's
headers (Debian's ``valgrind`` package ships both the tool and ``/usr/include/valgrind``;
``./dev setup`` installs it).

Used by :mod:`matloss.instructions` around the counted calls of the cases of a batch (valgrind
started with ``--instr-atstart=no --separate-threads=no``; each instrumentation switch discards
valgrind's translations, so it switches once per batch and only zeroes and dumps per case and call)::

    cg = client()
    cg.start()
    for case, step in prepared_cases:
        cg.zero()
        for k in range(6):
            step(); cg.dump(f"case {case} call {k}")

Each ``dump`` makes callgrind write one profile file holding the counts since the previous
zero/dump; the instruction count is its ``totals:`` line (the callgrind format's event totals).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HEADER_DIRS = ("/usr/include", "/usr/local/include")

SOURCE = r"""
#include <valgrind/callgrind.h>
void matloss_cg_zero(void) { CALLGRIND_ZERO_STATS; }
void matloss_cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void matloss_cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void matloss_cg_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
unsigned matloss_cg_running(void) { return RUNNING_ON_VALGRIND; }
"""


class Unavailable(RuntimeError):
    """No valgrind, no headers or no C compiler: the instruction channel cannot run here."""


def header() -> Path:
    for d in HEADER_DIRS:
        p = Path(d) / "valgrind" / "callgrind.h"
        if p.exists():
            return p
    raise Unavailable("valgrind's callgrind.h not found (Debian: apt-get install valgrind)")


def valgrind() -> str:
    path = shutil.which("valgrind")
    if path is None:
        raise Unavailable("valgrind not found (Debian: apt-get install valgrind)")
    return path


@dataclass
class Client:
    lib: ctypes.CDLL

    def zero(self) -> None:
        self.lib.matloss_cg_zero()

    def start(self) -> None:
        self.lib.matloss_cg_start()

    def stop(self) -> None:
        self.lib.matloss_cg_stop()

    def dump(self, label: str) -> None:
        self.lib.matloss_cg_dump(label.encode())

    def running(self) -> bool:
        """True inside valgrind (any tool)."""
        return bool(self.lib.matloss_cg_running())


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "matloss"


@functools.cache
def library() -> Path:
    """The compiled client's shared library, built on first use (a second or so) and cached on disk."""
    h = header()
    cc = shutil.which(os.environ.get("CC", "cc"))
    digest = hashlib.sha256(SOURCE.encode() + h.read_bytes()).hexdigest()[:16]
    so = _cache_dir() / f"callgrind-{digest}.so"
    if not so.exists():
        if cc is None:
            raise Unavailable("no C compiler (cc) to build the callgrind client (Debian: apt-get install gcc)")
        so.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "cg.c"
            src.write_text(SOURCE)
            out = Path(tmp) / "cg.so"
            r = subprocess.run([cc, "-O1", "-shared", "-fPIC", f"-I{h.parent.parent}", str(src), "-o", str(out)],
                               capture_output=True, text=True)
            if r.returncode:
                raise Unavailable(f"building the callgrind client failed: {r.stderr.strip()[-500:]}")
            os.replace(out, so)  # atomic: concurrent builders agree
    return so


@functools.cache
def client() -> Client:
    """The client requests, callable from this process."""
    lib = ctypes.CDLL(str(library()))
    lib.matloss_cg_dump.argtypes = [ctypes.c_char_p]
    lib.matloss_cg_running.restype = ctypes.c_uint
    return Client(lib)


def totals(profile: Path) -> int:
    """The instruction count (event ``Ir``) of one callgrind profile file: its ``totals:`` line
    (``summary:`` in older files), the first event being Ir with the default options. Callgrind
    writes ``totals:`` last, so the file's end is read first (a profile is up to a megabyte, and a
    channel run reads thousands); the whole file only where the end does not hold it."""
    with open(profile, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 4096))
        for line in reversed(f.read().splitlines()):
            if line.startswith(b"totals:"):
                return int(line.split()[1])
    found = None
    with open(profile) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                found = int(line.split()[1])
                if line.startswith("totals:"):
                    break
    if found is None:
        raise ValueError(f"{profile}: no totals: line (not a callgrind profile?)")
    return found


def annotate() -> str:
    """valgrind's own reader of callgrind profiles (the Perl script shipped beside the tool)."""
    path = shutil.which("callgrind_annotate")
    if path is None:
        raise Unavailable("callgrind_annotate not found (Debian: apt-get install valgrind)")
    return path


def inclusive(profile: Path, function: re.Pattern[str]) -> int:
    """Instructions spent inside the functions whose names match ``function``, callees included, as
    ``callgrind_annotate --inclusive=yes`` reports them for one profile (0 where none ran)."""
    r = subprocess.run([annotate(), "--inclusive=yes", "--threshold=100", "--auto=no", str(profile)],
                       capture_output=True, text=True, check=True)
    found = 0
    for line in r.stdout.splitlines():
        m = _ANNOTATED.match(line)
        if m and function.search(m.group(2)):
            found += int(m.group(1).replace(",", ""))
    return found


#: a function's line in callgrind_annotate's table: ``3,004,980 (67.07%)  file:function [object]``
_ANNOTATED = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def label_of(profile: Path) -> str | None:
    """The label given to ``dump`` (the profile's ``desc: Trigger: Client Request: LABEL`` line)."""
    prefix = "desc: Trigger: Client Request: "
    with open(profile) as f:
        for line in f:
            if line.startswith(prefix):
                return line[len(prefix):].rstrip("\n")
            if line.startswith(("events:", "fn=")):
                break
    return None
