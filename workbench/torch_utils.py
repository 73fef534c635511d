"""Torch plumbing shared by the estimators, the trainers and the demos: which device, how many
threads, and seeded randomness that leaves the caller's random state alone.

Torch is imported inside each function, so importing this module stays light.
"""
from __future__ import annotations

import re
import sys
import threading
from contextlib import contextmanager

from .errors import KnobError

#: Devices workbench computes on: the CPU, a CUDA GPU (optionally by index) or Apple's MPS.
#: Other torch device types ("meta", "xpu", ...) hold no data or are not supported here.
_DEVICE_RE = re.compile(r"(cpu|mps|cuda(:\d+)?)")


def check_device_name(name: object) -> str:
    """``name`` if it names a device workbench can compute on ("cpu", "cuda", "cuda:N",
    "mps"), else a KnobError that says what is accepted. A string check, no torch import:
    estimators run it when the setting is made, so a typo fails at once (even where the device
    is not used, e.g. ``compressed_ksg`` with PCA); :func:`torch_device` adds the hardware
    check when the device is about to be used."""
    if not isinstance(name, str) or not _DEVICE_RE.fullmatch(name):
        raise KnobError(f"device {name!r} is not a torch device workbench can compute on; use "
                        "'cpu', 'cuda', 'cuda:N' or 'mps'")
    return name


def torch_device(name: str):
    """``torch.device(name)`` for a name :func:`check_device_name` accepts, with a clear
    KnobError when that GPU is missing."""
    import torch

    check_device_name(name)
    dev = torch.device(name)
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise KnobError(f"device {name!r} asked for, but torch sees no CUDA GPU; use "
                            "device='cpu'")
        if dev.index is not None and dev.index >= count:
            raise KnobError(f"device {name!r} asked for, but torch sees {count} CUDA GPU(s) "
                            f"(cuda:0 to cuda:{count - 1})")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise KnobError(f"device {name!r} asked for, but MPS is not available here; use "
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


#: Held while torch's global generator is reseeded, drawn from for a seeded initialisation, or
#: restored: threads training side by side (a LocalCluster) take turns there.
RNG_LOCK = threading.RLock()


@contextmanager
def seeded(seed: int):
    """Run the block with torch's generators (CPU and every CUDA device) seeded with ``seed``,
    and restore their previous states afterwards: same seed, same numbers, and the caller's
    own random stream is left as it was. (``torch.manual_seed`` also reseeds the GPUs, so
    forking the CPU generator alone would leave them changed.)

    Threads: the lock covers the reseed and the restore only. Two threads whose blocks
    overlap and both draw from the global generator still interleave their draws; code
    that must be reproducible under a threaded scheduler draws inside ``RNG_LOCK`` (as the
    bottleneck networks' initialisation does) or from its own ``torch.Generator``."""
    import torch

    gpus = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    fork = torch.random.fork_rng(devices=gpus)
    # seeding and restoring rewrite the process-wide generator: under RNG_LOCK, so that they
    # never land inside another thread's locked seeded initialisation (a LocalCluster's jobs)
    with RNG_LOCK:
        fork.__enter__()
        torch.manual_seed(int(seed))
    try:
        yield
    finally:
        with RNG_LOCK:
            fork.__exit__(None, None, None)
