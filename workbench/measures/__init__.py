"""Measures beyond one estimate of a pair: multivariate (total correlation, dual total
correlation, O-/S-information, co-information, multiplet sweeps, Shannon/Rajski distances),
partial information decomposition (pid), time series (transfer entropy, conditional TE, active
information storage), statistics (bootstrap intervals, permutation and surrogate tests) and
representation spectra (effective rank, coding rate)."""
