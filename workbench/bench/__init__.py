"""Ground-truth benchmarks: tasks with exact mutual information (``bench.tasks``) and the runner
that sweeps estimators over them, locally or on a Dask cluster (``bench.runner``)."""
