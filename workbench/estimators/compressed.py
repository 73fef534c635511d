"""MI of high-dimensional representations via lossy compression, then KSG.

Butakov, Tolmachev, Malanchuk, Neopryatnaya, Frolov & Andreev (2024), "Information bottleneck
analysis of deep neural networks via lossy compression" (ICLR): kNN estimators fail in high
dimension, but layer activations usually live near a low-dimensional manifold. So

1. optionally add Gaussian noise N(0, noise_std² I) to each continuous side — a noisy layer
   T + Z makes I(X; T) finite and meaningful for a deterministic network (Goldfeld et al.
   2019, "Estimating information flow in deep neural networks");
2. compress every side with more than ``dim`` columns to ``dim`` columns, by PCA (default;
   an SVD of the centred data) or a small seeded autoencoder (torch);
3. estimate I with KSG (``workbench.estimators.knn``, method ``ksg``) on the compressed data.

Compression can only lose information (data processing), so with an imperfect compressor the
estimate is biased low; when the data lie in a ``dim``-dimensional linear subspace PCA is
invertible on it and the MI is unchanged.
"""
from __future__ import annotations

import numpy as np
import param

from ..torch_utils import limit_threads, seeded, torch_device
from ..validation import check_seed, is_discrete, pow2_scaled, standardize
from . import get_estimator_class, register
from .base import EXECUTION_PRECEDENCE, SCALE_BOUNDS, Device, Estimator, Seeded
from .neural.critics import _mlp


def pca_compress(a: np.ndarray, dim: int) -> np.ndarray:
    """Scores of the centred rows of ``a`` on its top ``dim`` principal axes (numpy SVD), in
    the units of ``a`` divided by a power of two (MI is blind to that scale)."""
    a = pow2_scaled(a)[0]  # exact; keeps any finite scale away from overflow in the SVD
    centred = a - a.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:dim].T


def autoencoder_compress(a: np.ndarray, dim: int, hidden: int = 64, steps: int = 500,
                         lr: float = 3e-3, batch_size: int = 256, seed: int = 0,
                         device: str = "cpu") -> np.ndarray:
    """Codes of a ``d → hidden → dim → hidden → d`` autoencoder (softplus, MSE, Adam) trained
    for ``steps`` minibatch steps on the standardised rows of ``a``. Same seed, same codes."""
    import torch

    dev = torch_device(device)
    z = torch.as_tensor(standardize(a)[0], dtype=torch.float32, device=dev)
    n, d = z.shape
    with seeded(seed):
        encoder, decoder = _mlp(d, [hidden], dim), _mlp(dim, [hidden], d)
    encoder, decoder = encoder.to(dev), decoder.to(dev)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    gen = torch.Generator().manual_seed(seed)
    b = min(batch_size, n)
    for _ in range(steps):
        idx = torch.randint(n, (b,), generator=gen).to(dev)
        loss = ((decoder(encoder(z[idx])) - z[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return encoder(z).cpu().numpy().astype(np.float64)


@register
class CompressedKSG(Seeded, Estimator):
    """Noise (optional) → PCA or autoencoder compression to ``dim`` columns → KSG MI."""

    method_name = "compressed_ksg"
    family = "compressed"
    summary = ("KSG MI after compressing each high-dimensional side to a few dimensions (PCA or "
               "autoencoder), optionally on noisy activations.")
    references = ("Butakov et al. (2024), Information bottleneck analysis of deep neural "
                  "networks via lossy compression, ICLR; Goldfeld et al. (2019), Estimating "
                  "information flow in deep neural networks, ICML; Kraskov et al. (2004).")
    duplicate_sensitive = True

    dim = param.Integer(default=4, bounds=(1, None), softbounds=(1, 32), label="Dimensions kept",
                        doc="Columns kept per side; sides with at most dim columns are not "
                            "compressed.")
    compressor = param.Selector(default="pca", objects=["pca", "autoencoder"],
                                doc="'pca' (SVD of the centred data) or 'autoencoder' (a small "
                                    "torch MLP autoencoder, seeded).")
    noise_std = param.Number(default=0.0, bounds=(0, SCALE_BOUNDS[1]), softbounds=(0, 1),
                             label="Noise std",
                             doc="Std of Gaussian noise added (seeded) to every continuous side "
                                 "before compression, in the data's units; 0: none. Discrete "
                                 "sides (labels) are left alone.")
    k = param.Integer(default=3, bounds=(1, None), softbounds=(1, 20), label="k (neighbours)",
                      doc="Neighbours for KSG.")
    ae_steps = param.Integer(default=500, bounds=(1, None), softbounds=(50, 5000),
                             label="Autoencoder steps",
                             doc="Autoencoder training steps (compressor='autoencoder').")
    ae_hidden = param.Integer(default=64, bounds=(1, None), softbounds=(8, 256),
                              label="Autoencoder width",
                              doc="Autoencoder hidden width (compressor='autoencoder').")
    device = Device(default="cpu", precedence=EXECUTION_PRECEDENCE,
                    doc="Execution setting: torch device for the autoencoder, 'cpu', 'cuda', "
                        "'cuda:N' or 'mps'.")

    def _ksg(self):
        return get_estimator_class("ksg")(k=self.k, seed=self.seed)

    def min_samples(self) -> int:
        return self._ksg().min_samples()

    def _compress(self, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if is_discrete(a):
            return a
        if self.noise_std > 0:
            a = a + rng.normal(0.0, self.noise_std, size=a.shape)
        if a.shape[1] <= self.dim:
            return a
        if self.compressor == "pca":
            return pca_compress(a, self.dim)
        with limit_threads(1, use_torch=True):  # a small MLP: one thread is fastest
            return autoencoder_compress(a, self.dim, hidden=self.ae_hidden,
                                        steps=self.ae_steps, seed=self.seed, device=self.device)

    def _mutual_info(self, x, y):
        rng = check_seed(self.seed)
        xc, yc = self._compress(x, rng), self._compress(y, rng)
        return self._ksg()._mutual_info(xc, yc)


__all__ = ["CompressedKSG", "pca_compress", "autoencoder_compress"]
