"""What every bench script's JSON carries besides its figures: the machine it ran on.

The same code has measured onnx-int8 at 1.3x to 5.7x PyTorch's ``encode`` in different sessions,
while PyTorch's own time stayed within 20%. ONNX Runtime's int8 matrix products use the CPU's
VNNI instructions where it has them, and a session may land on another host, so a figure is only
comparable with another taken on the same kind of CPU.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

# The vector instructions the model's matrix products (float and int8) and FAISS pick kernels by.
_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
_PACKAGES = ("numpy", "faiss-cpu", "onnxruntime", "torch", "sentence-transformers")


def machine() -> dict[str, Any]:
    """The CPU's model and instructions, the cores this process may use, and the versions of the
    libraries that do the arithmetic."""
    first: dict[str, str] = {}  # the first processor's fields: the cores are alike
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            first.setdefault(key.strip(), value.strip())
    except OSError:  # not Linux: the platform's own name is all there is
        first["model name"] = platform.processor()
    flags = set(first.get("flags", "").split())
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        # A hypervisor may hide the model's name ("AMD EPYC"); family and model still tell it.
        "cpu": first.get("model name", ""),
        "cpu_family_model": f"{first.get('cpu family', '?')}/{first.get('model', '?')}",
        "cpu_flags": [flag for flag in _FLAGS if flag in flags],
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
    }


def write_json(path: Path | None, result: dict[str, Any]) -> None:
    """``result`` with the machine beside it, to ``path`` (nothing when it is None)."""
    if path is not None:
        path.write_text(json.dumps({**result, "machine": machine()}, indent=2) + "\n", encoding="utf-8")
