"""Progress reporting for long computations (neural estimators, autoencoders, sweeps).

One object serves both audiences: apps pass a ``callback(step, total, value)`` (e.g. to move a
Panel progress bar), console users ask for a tqdm bar with ``show=True``. Neither is on by
default, so notebook output is not flooded.
"""
from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int, float | None], None]


class Progress:
    """Report ``step`` out of ``total`` (and an optional running value) to a callback and/or a
    tqdm bar. Use as a context manager so the bar is closed on errors too::

        with Progress(total=1000, callback=cb, show=True, desc="infonce") as prog:
            for step in range(1, 1001):
                ...
                prog.update(step, estimate)
    """

    def __init__(self, total: int, callback: ProgressCallback | None = None,
                 show: bool = False, desc: str = ""):
        self.total = int(total)
        self.callback = callback
        self._bar = None
        self._shown = 0
        if show:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, leave=False)

    def update(self, step: int, value: float | None = None) -> None:
        """Progress is now ``step`` of ``total``; ``value`` is the current estimate, if any."""
        if self._bar is not None:
            self._bar.update(max(step - self._shown, 0))
            self._shown = max(step, self._shown)
            if value is not None:
                self._bar.set_postfix(value=f"{value:.4g}", refresh=False)
        if self.callback is not None:
            self.callback(int(step), self.total, None if value is None else float(value))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["Progress", "ProgressCallback"]
