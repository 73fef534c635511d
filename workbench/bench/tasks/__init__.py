"""Ground-truth tasks: distributions that can be sampled and know their exact mutual information.

    >>> from workbench import tasks
    >>> task = tasks.get("multinormal-sparse-5-5")
    >>> x, y = task.sample(1000, seed=0)
    >>> round(task.mi("nats"), 4)
    1.0217

``suite()`` gives the 40-task benchmark suite (after Czyż et al. 2023, "Beyond normal");
``discrete_suite()`` a few discrete tasks with exact values by enumeration; ``pid_gates()`` the
canonical two-source gates with their exact PID atoms.
"""
from .base import Task, stable_seed
from .discrete import (
                       DiscreteTask,
                       binary_symmetric_channel,
                       discrete_suite,
                       from_pmf,
                       noisy_copy,
                       xor,
)
from .gates import PIDTask, get_gate, pid_gates, pid_task
from .gaussian import (
                       GaussianTask,
                       bivariate,
                       dense,
                       from_mi,
                       gaussian,
                       gaussian_mi,
                       rho_for_mi,
                       sparse,
)
from .noise import AdditiveUniformTask, additive_uniform, additive_uniform_mi
from .student import StudentTask, student_t, student_t_correction
from .suite import all_tasks, get, names, select, suite
from .transforms import (
                       Asinh,
                       GaussianToMixture,
                       HalfCube,
                       NormalCDF,
                       Spiral,
                       SwissRoll,
                       Transform,
                       TransformedTask,
                       Wiggly,
                       asinh,
                       bimodal,
                       half_cube,
                       normal_cdf,
                       spiral,
                       swiss_roll,
                       transform,
                       wiggly,
)
from .var import VARProcess, chain, coupled_pair

__all__ = [
    "Task", "GaussianTask", "StudentTask", "AdditiveUniformTask", "TransformedTask",
    "DiscreteTask", "Transform", "NormalCDF", "Asinh", "HalfCube", "Wiggly", "GaussianToMixture",
    "Spiral", "SwissRoll", "suite", "all_tasks", "discrete_suite", "select", "get", "names",
    "gaussian",
    "bivariate", "dense", "sparse", "from_mi", "rho_for_mi", "gaussian_mi", "student_t",
    "student_t_correction", "additive_uniform", "additive_uniform_mi", "transform", "normal_cdf",
    "asinh", "half_cube", "wiggly", "spiral", "swiss_roll", "bimodal", "from_pmf",
    "binary_symmetric_channel", "xor", "noisy_copy", "stable_seed", "PIDTask", "pid_task",
    "pid_gates", "get_gate", "VARProcess", "coupled_pair", "chain",
]
