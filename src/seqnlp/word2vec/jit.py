"""Loading the word2vec kernels, and handing the JIT compiler's memory back afterwards.

Numba compiles a kernel (or loads it from its on-disk cache) through LLVM on first use,
which touches about 60 MB of LLVM's own machine code. `load_kernel` does this once per
kernel, before the corpus is read, and `release_llvm_pages` then returns those clean,
file-backed pages to the OS; training itself never runs LLVM code. Linux only (elsewhere
the release does nothing).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import numpy as np

# `@njit` options: the kernels release the GIL; the helpers are inlined into them.
KERNEL_OPTIONS = {"cache": True, "nogil": True, "fastmath": True}
HELPER_OPTIONS = {"cache": True, "nogil": True, "fastmath": True, "inline": "always"}

_KERNELS = {("skipgram", "negative"): "train_skipgram_negative",
            ("cbow", "negative"): "train_cbow_negative",
            ("skipgram", "hierarchical"): "train_skipgram_hierarchical",
            ("cbow", "hierarchical"): "train_cbow_hierarchical"}
_LOADED: dict[tuple[str, str], Any] = {}


def load_kernel(architecture: str, loss: str) -> Any:
    """The kernel's Numba dispatcher, compiled (or loaded from cache) by a call on toy data.

    Loading a kernel makes LLVM touch about 60 MB of its own machine code; the driver loads
    it before it reads the corpus and then hands those clean, file-backed pages back to the
    OS (`release_llvm_pages`), so that a run's peak memory is the interpreter
    plus its data. Training never runs LLVM code, so nothing is read back.

    Args:
        architecture: "skipgram" or "cbow". loss: "negative" or "hierarchical".

    Returns:
        The kernel (a Numba dispatcher), ready to be called from worker threads.
    """
    key = (architecture, loss)
    if key not in _LOADED:
        from seqnlp.word2vec import kernels

        release_llvm_pages()  # what importing Numba touched
        kernel = getattr(kernels, _KERNELS[key])
        w = np.zeros((2, 1), dtype=np.float32)
        ids, ends = np.zeros(1, dtype=np.int32), np.ones(1, dtype=np.int64)
        keep = np.full(2, 1 << 32, dtype=np.uint64)
        if loss == "negative":
            tables: tuple = (keep, keep.copy(), np.zeros(2, dtype=np.int32), 1, 1)
        else:
            tables = (keep, np.zeros(1, np.uint8), np.zeros(1, np.int32),
                      np.array([0, 1, 1], dtype=np.int64), 1)
        kernel(w, w.copy(), ids, ends, *tables, *((True,) if architecture == "cbow" else ()),
               0.0, 0.0, 0)
        _LOADED[key] = kernel
        release_llvm_pages()
    return _LOADED[key]


_MADV_DONTNEED = 4


def release_llvm_pages() -> int:
    """Hand LLVM's clean, read-only code pages back to the OS; return the bytes released.

    Loading a kernel (from Numba's cache or by compiling it) runs LLVM, which touches about
    60 MB of libllvmlite's machine code and constants. Training never runs LLVM again, so
    these file-backed pages are dead weight in the resident set. `madvise(MADV_DONTNEED)`
    drops them; should LLVM run again (another kernel is compiled) the pages are read back
    from the file. Only mappings without a written (dirty) page are touched, so no data is
    lost. Linux only; elsewhere, or on any failure, nothing happens.
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        released = 0
        for start, end, rss in _clean_llvmlite_mappings():
            if madvise(start, end - start, _MADV_DONTNEED) == 0:
                released += rss
        return released
    except (OSError, AttributeError, ValueError):
        return 0


def _clean_llvmlite_mappings() -> list[tuple[int, int, int]]:
    """(start, end, resident bytes) of libllvmlite's read-only mappings with no dirty page."""
    found, current = [], None
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as smaps:
        for line in smaps:
            field = line.split()
            if field and not field[0].endswith(":"):  # a mapping's header line
                start, end = (int(x, 16) for x in field[0].split("-"))
                path = field[5] if len(field) > 5 else ""
                wanted = "libllvmlite" in path and "w" not in field[1]
                current = {"range": (start, end)} if wanted else None
                if current is not None:
                    found.append(current)
            elif current is not None and len(field) > 1 and field[1].isdigit():
                current[field[0]] = int(field[1]) * 1024
    return [(*m["range"], m.get("Rss:", 0)) for m in found
            if m.get("Private_Dirty:", 1) == 0 and m.get("Shared_Dirty:", 1) == 0]
