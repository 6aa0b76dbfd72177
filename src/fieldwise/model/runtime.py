"""Process-wide settings that decide CPU speed, applied once before any tokenizer or model runs.

Measured on 2 cores (notes/funsd-calibration.md): with ``TOKENIZERS_PARALLELISM`` unset the
tokenizers' thread pool fights PyTorch's and an epoch takes 86 s instead of 15 s.

Example::

    setup_threads()   # all cores for PyTorch, no tokenizer threads
"""

from __future__ import annotations

import os

_done = False


def setup_threads(threads: int | None = None) -> None:
    """Give PyTorch all cores (or ``threads``) and keep the tokenizers single-threaded."""
    global _done
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if _done and threads is None:
        return
    import torch

    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
    _done = True


def bf16_supported() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX512-BF16 or AMX); else autocast is slow."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as info:
            flags = info.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
