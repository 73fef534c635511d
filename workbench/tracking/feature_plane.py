"""An information plane for continuous inputs: I(X;T) against the input *features*.

:class:`~workbench.tracking.plane.InformationPlane` treats every distinct input row as one
symbol of X, which suits the 12-bit task (4096 equally likely patterns) and binning, where
I(X;T) = H(T_binned). For continuous inputs such as MNIST-1D every row is distinct, every
layer of a deterministic network keeps them apart, and a kNN estimator given row ids has
no geometry to work with. :class:`FeaturePlane` therefore gives non-binning estimators the
input rows themselves, so ``I(X;T) = est.mutual_info(T, X)`` with X the input features. With
``compressed_ksg(noise_std=σ)`` (Butakov et al. 2024) this is the mutual information of the
noisy layer T + Z, Z ~ N(0, σ²I) (Goldfeld et al. 2019), between PCA compressions of both
sides: finite, and a lower bound of the noisy-layer MI by data processing when PCA loses
something. Binning estimators keep the symbol path of the base class.
"""
from __future__ import annotations

import functools

import numpy as np

from .plane import _BINNING_METHODS, InformationPlane, _FrontDoor


class FeaturePlane(InformationPlane):
    """:class:`~workbench.tracking.plane.InformationPlane` whose non-binning estimators
    measure I(X;T) against the input features (see the module docstring); same arguments."""

    @functools.cached_property
    def _features(self) -> np.ndarray:
        """The measured input rows (the base class's subsample) as float64 feature rows."""
        x = self._measured_x
        return x.reshape(len(x), -1).astype(np.float64)

    def _evaluator(self, est):
        if self.fast and est.method_name in _BINNING_METHODS:
            return super()._evaluator(est)
        return _FrontDoor(est, self._features, self.y.reshape(-1, 1), self.units)
