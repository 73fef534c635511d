"""compressed_ksg: noise → PCA / autoencoder compression → KSG.

Ground truth: U, Y standard normal in 2 dimensions with correlation ρ = 0.8 per coordinate,
I(U;Y) = −log(1 − ρ²) = 1.0217 nats. X = U·A with A a random 2×30 matrix lies in a 2-D
subspace of R^30; MI is invariant under the injective map U ↦ X, so I(X;Y) = I(U;Y), and PCA
to 2 dimensions is invertible on that subspace.
"""
import math

import numpy as np
import pytest

import workbench as wb
from workbench.estimators import get_estimator_class
from workbench.estimators.compressed import pca_compress

RHO = 0.8
TRUTH = -math.log(1 - RHO**2)


def test_compressed_ksg_and_its_ksg_are_listed():
    assert {"ksg", "compressed_ksg"} <= {m["name"] for m in wb.methods()}


@pytest.fixture(scope="module")
def embedded():
    rng = np.random.default_rng(0)
    u = rng.normal(size=(2000, 2))
    y = RHO * u + math.sqrt(1 - RHO**2) * rng.normal(size=(2000, 2))
    return u, u @ rng.normal(size=(2, 30)), y


def test_pca_recovers_the_subspace(embedded):
    u, x, y = embedded
    est = wb.mutual_info(x, y, method="compressed_ksg", dim=2, units="nats")
    # KSG (k = 3) at n = 2000 on 2+2 Gaussian dimensions: sd over seeds about 0.03 nats, bias
    # below 0.02; PCA of noiseless rank-2 data is exact, so 0.1 nats is > 3 sd
    assert est == pytest.approx(TRUTH, abs=0.1)
    scores = pca_compress(x, 2)
    # the scores are an invertible affine map of u (least-squares fit is exact)
    design = np.column_stack([u, np.ones(len(u))])
    coef, *_ = np.linalg.lstsq(design, scores, rcond=None)
    assert np.allclose(design @ coef, scores, atol=1e-8)
    assert abs(np.linalg.det(coef[:2])) > 1e-3


def test_no_compression_is_plain_ksg(embedded):
    u, _, y = embedded
    plain = wb.mutual_info(u, y, method="ksg", k=4, seed=2)
    assert wb.mutual_info(u, y, method="compressed_ksg", dim=2, k=4, seed=2) == plain


def test_autoencoder_is_seeded_and_close(embedded):
    _, x, y = embedded
    knobs = {"dim": 2, "compressor": "autoencoder", "ae_steps": 200, "units": "nats"}
    a = wb.mutual_info(x, y, method="compressed_ksg", seed=1, **knobs)
    b = wb.mutual_info(x, y, method="compressed_ksg", seed=1, **knobs)
    assert a == b
    # compression can only lose information (data processing) up to KSG noise (~0.03); a
    # 200-step autoencoder measured 1.03-1.05 on seeds 0-2
    assert TRUTH - 0.3 < a < TRUTH + 0.1


def test_noise_lowers_mi_and_labels_are_left_alone(embedded):
    u, x, y = embedded
    clean = wb.mutual_info(x, y, method="compressed_ksg", dim=2, units="nats")
    # noise of std 3 on the 30 columns (each of std ~1.4): much information is lost
    noisy = wb.mutual_info(x, y, method="compressed_ksg", dim=2, noise_std=3.0, units="nats")
    assert noisy < clean - 0.2
    labels = (u[:, 0] > 0).astype(int)
    with_labels = wb.mutual_info(x, labels, method="compressed_ksg", dim=2, noise_std=0.5)
    # the labels are binary with H = 1 bit; noise is added to x only, so the estimate stays
    # a sensible fraction of a bit
    assert 0.2 < with_labels < 1.1


def test_errors(embedded):
    _, x, y = embedded
    with pytest.raises(wb.NotSupportedError):
        wb.entropy(x, method="compressed_ksg")
    for knobs in ({"dim": 0}, {"compressor": "umap"}, {"noise_std": -1.0}):
        with pytest.raises(wb.KnobError):
            wb.mutual_info(x, y, method="compressed_ksg", **knobs)
    with pytest.raises(wb.InputError, match="at least"):
        wb.mutual_info(x[:3], y[:3], method="compressed_ksg")
    assert get_estimator_class("compressed_ksg").family == "compressed"
