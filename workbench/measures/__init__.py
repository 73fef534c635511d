"""Measures beyond one estimate of a pair: multivariate (total correlation, dual total
correlation, O-information, Shannon/Rajski distances), time series (transfer entropy),
statistics (bootstrap intervals, permutation tests) and representation spectra (effective rank,
coding rate)."""
