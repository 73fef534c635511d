"""States of a variable in a query of the masked score network (no torch here, so the
estimator modules can name modes without importing torch)."""
MARGINAL, DIFFUSED, CONDITIONED = 0, 1, 2
