"""Training with a bottleneck: information-bottleneck objectives as losses, a stochastic
bottleneck model family, its information plane measured from its own noise, β sweeps.

Convention (as in VIB): loss = prediction loss + β · (a bound or estimate of I(X;T)), so a
larger β compresses more.

* :mod:`workbench.ib.losses` — ``VIB``, ``NonlinearIB`` (and the squared IB), ``CSIB``,
  ``MINEIB`` as ``torch.nn.Module`` losses;
* :mod:`workbench.ib.models` — encoder → Gaussian bottleneck T → decoder;
* :mod:`workbench.ib.channel` — I(X;T), I(T;Y), H(T) of the trained Gaussian channel
  (pairwise-distance bounds; numpy only);
* :mod:`workbench.ib.tracker` — ``IBPlane``, the per-epoch plane of the bottleneck;
* :mod:`workbench.ib.experiment` / :mod:`workbench.ib.sweep` — one run; β × seed sweeps on
  any Dask scheduler (``workbench ib``).

This package imports torch in its torch modules only; ``import workbench`` never loads it.
"""
