"""Register this machine with asv under a descriptive name and print the name.

The name is ``<hostname>-<cpu model>-<N>cpu``, plus ``-<gpu model>`` where ``nvidia-smi`` finds a
GPU (e.g. ``node7-amd-epyc-16cpu-nvidia-h100-80gb-hbm3``), so results from a GPU machine are
attributed to that GPU. ``--name`` overrides it (or ``$MATLOSS_ASV_MACHINE``). The other fields
(os, arch, cpu, num_cpu, ram) are filled in from this machine, so ``asv machine`` asks nothing.

    python scripts/asv_machine.py            # registers and prints e.g. vm-amd-epyc-2cpu
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_models() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def ram_text() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return f"{pages * size / 2**30:.0f}GB"
    except (ValueError, OSError):
        return ""


def default_name() -> str:
    host = socket.gethostname().split(".")[0]
    name = f"{_slug(host)}-{_slug(cpu_model())}-{os.cpu_count()}cpu"
    gpus = gpu_models()
    if gpus:
        name += "-" + _slug(gpus[0]) + (f"-x{len(gpus)}" if len(gpus) > 1 else "")
    return name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default=os.environ.get("MATLOSS_ASV_MACHINE") or None, help="machine name (default: derived)")
    p.add_argument("--asv", default=os.path.join(os.path.dirname(sys.executable), "asv"), help="asv executable")
    p.add_argument("--config", default="asv.conf.json")
    ns = p.parse_args(argv)
    name = ns.name or default_name()
    gpus = gpu_models()
    cpu = f"{cpu_model()} ({os.cpu_count()} cores)" + (f"; GPU: {', '.join(gpus)}" if gpus else "")
    cmd = [
        ns.asv, "machine", "--config", ns.config, "--yes", "--machine", name,
        "--os", f"{platform.system()} {platform.release()}", "--arch", platform.machine(),
        "--cpu", cpu, "--num_cpu", str(os.cpu_count()), "--ram", ram_text(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
