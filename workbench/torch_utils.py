"""Torch plumbing shared by the estimators, the trainers and the demos: which device, how many
threads, and seeded randomness that leaves the caller's random state alone.

Torch is imported inside each function, so importing this module stays light.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

from .errors import KnobError


def torch_device(name: str):
    """``torch.device(name)``, with a clear error for a bad name or a missing GPU."""
    import torch

    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise KnobError(f"device {name!r} is not a torch device: {exc}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise KnobError(f"device {name!r} asked for, but torch sees no CUDA GPU; use "
                        "device='cpu'")
    return dev


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch CPU threads (None or 0: unchanged), restoring the
    setting after.

    Tiny models train fastest on one thread: on a busy machine, OpenMP threads waiting for each
    other at every small matmul can make training ten times slower."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def limit_threads(n: int | None, use_torch: bool = False):
    """Run the block with at most ``n`` BLAS/OpenMP threads and ``n`` torch threads (None:
    leave every library as it is); the previous settings are restored afterwards.

    Torch is throttled when it is already imported or ``use_torch`` says the block needs it
    (it is imported here then, because a library loaded inside the block would escape).
    """
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    if use_torch:
        import torch  # noqa: F401  (load its OpenMP runtime before limiting it)
    with threadpool_limits(limits=n):
        if "torch" in sys.modules:
            with torch_threads(n):
                yield
        else:
            yield


@contextmanager
def seeded(seed: int):
    """Run the block with torch's generators (CPU and every CUDA device) seeded with ``seed``,
    and restore their previous states afterwards: same seed, same numbers, and the caller's
    own random stream is left as it was. (``torch.manual_seed`` also reseeds the GPUs, so
    forking the CPU generator alone would leave them changed.)"""
    import torch

    gpus = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=gpus):
        torch.manual_seed(int(seed))
        yield
