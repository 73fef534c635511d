"""The canonical PID gates: two discrete sources X1, X2, a target Y, and their exact atoms.

Each gate is a :class:`PIDTask`, a :class:`~workbench.bench.tasks.discrete.DiscreteTask` whose
X is the pair (X1, X2) (so it samples and scores like any discrete task, with
I(X;Y) = I(X1,X2;Y)), plus the joint table ``pmf3[x1, x2, y]`` and the known atoms (bits) of
each PID measure. Sources are fair bits unless said otherwise (Williams & Beer 2010;
Bertschinger et al. 2014; Griffith & Koch 2014):

=========  =================================  ========================  =====================
gate       Y                                  imin (Red, U1, U2, Syn)   broja
=========  =================================  ========================  =====================
xor        X1 xor X2                          0, 0, 0, 1                0, 0, 0, 1
and        X1 and X2                          r, 0, 0, ½                r, 0, 0, ½
rdn        X1 = X2 = Y                        1, 0, 0, 0                1, 0, 0, 0
unq        X1 (X2 independent)                0, 1, 0, 0                0, 1, 0, 0
copy       (X1, X2)                           1, 0, 0, 1                0, 1, 1, 0
noisy_mix  (R, S1 xor S2 flipped w.p. ε),     1, 0, 0, 1 − h(ε)         1, 0, 0, 1 − h(ε)
           X1 = (R, S1), X2 = (R, S2)
=========  =================================  ========================  =====================

with r = h(¼) − ½ = 0.3113 bits (h the binary entropy): in AND each source alone tells
I(Xi;Y) = r, both together h(¼) = 0.8113. COPY is where the measures part: I_min counts the
two independent bits as shared (its known flaw), BROJA as unique.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...errors import InputError
from .discrete import DiscreteTask, _entropy


def binary_entropy_bits(p: float) -> float:
    """h(p) = −p log₂ p − (1−p) log₂ (1−p)."""
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


@dataclass(frozen=True, eq=False, kw_only=True)
class PIDTask(DiscreteTask):
    """A discrete (X1, X2; Y) task with exact PID atoms.

    ``sample(n)`` gives ``x`` with columns X1, X2 (symbol codes) and ``y`` (codes);
    ``sources(n)`` gives the three arrays separately. ``atoms[measure]`` maps each atom name to
    its exact value in bits.
    """

    pmf3: np.ndarray = field(repr=False)
    atoms: dict = field(default_factory=dict)

    def sources(self, n: int, seed=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` samples as three 1-D code arrays ``(x1, x2, y)``."""
        x, y = self.sample(n, seed)
        return x[:, 0], x[:, 1], y[:, 0]


def pid_task(pmf3, name: str, atoms: dict, description: str) -> PIDTask:
    """A :class:`PIDTask` from a joint table ``pmf3[x1, x2, y]`` and its atoms (bits)."""
    p = np.asarray(pmf3, dtype=np.float64)
    if p.ndim != 3 or (p < 0).any() or not np.isclose(p.sum(), 1.0):
        raise InputError(f"pmf3 must be a non-negative 3-D table summing to 1, got shape "
                         f"{p.shape}")
    a, b, c = p.shape
    flat = p.reshape(a * b, c)
    x_values = np.stack(np.meshgrid(np.arange(a), np.arange(b), indexing="ij"), -1)
    mi = max(_entropy(flat.sum(axis=1)) + _entropy(flat.sum(axis=0)) - _entropy(flat), 0.0)
    return PIDTask(name=name, dim_x=2, dim_y=1, mutual_info=mi, discrete=True, pmf=flat,
                   x_values=x_values.reshape(a * b, 2).astype(np.int64),
                   y_values=np.arange(c, dtype=np.int64).reshape(c, 1), description=description,
                   params={"pmf3": p.tolist()}, pmf3=p, atoms=atoms)


def _from_rule(rule, name, atoms, description, n1=2, n2=2, ny=2):
    """Uniform independent sources, Y = rule(x1, x2) deterministically."""
    p = np.zeros((n1, n2, ny))
    for x1 in range(n1):
        for x2 in range(n2):
            p[x1, x2, rule(x1, x2)] = 1.0 / (n1 * n2)
    return pid_task(p, name, atoms, description)


def _same(red=0.0, u1=0.0, u2=0.0, syn=0.0) -> dict:
    atoms = {"redundancy": red, "unique1": u1, "unique2": u2, "synergy": syn}
    return {"imin": atoms, "broja": dict(atoms)}


def xor_gate() -> PIDTask:
    return _from_rule(lambda a, b: a ^ b, "pid-xor", _same(syn=1.0),
                      "Y = X1 xor X2: one bit of pure synergy")


def and_gate() -> PIDTask:
    r = binary_entropy_bits(0.25) - 0.5
    return _from_rule(lambda a, b: a & b, "pid-and", _same(red=r, syn=0.5),
                      "Y = X1 and X2: redundancy h(1/4) - 1/2, synergy 1/2 bit")


def rdn_gate() -> PIDTask:
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = 0.5
    return pid_task(p, "pid-rdn", _same(red=1.0), "X1 = X2 = Y: one redundant bit")


def unq_gate() -> PIDTask:
    return _from_rule(lambda a, b: a, "pid-unq", _same(u1=1.0),
                      "Y = X1, X2 independent: one bit unique to X1")


def copy_gate() -> PIDTask:
    atoms = {"imin": {"redundancy": 1.0, "unique1": 0.0, "unique2": 0.0, "synergy": 1.0},
             "broja": {"redundancy": 0.0, "unique1": 1.0, "unique2": 1.0, "synergy": 0.0}}
    return _from_rule(lambda a, b: 2 * a + b, "pid-copy", atoms,
                      "Y = (X1, X2): two bits, unique under BROJA, 1 redundant + 1 synergistic "
                      "under I_min", ny=4)


def noisy_mix_gate(noise: float = 0.1) -> PIDTask:
    """X1 = (R, S1), X2 = (R, S2), Y = (R, S1 xor S2 xor F) with R, S1, S2 fair bits and F a
    bit that is 1 with probability ``noise``: 1 redundant bit and 1 − h(noise) synergy."""
    if not 0 <= noise <= 1:
        raise InputError(f"noise must be in [0, 1], got {noise}")
    p = np.zeros((4, 4, 4))
    for r in range(2):
        for s1 in range(2):
            for s2 in range(2):
                t = s1 ^ s2
                p[2 * r + s1, 2 * r + s2, 2 * r + t] += (1 - noise) / 8
                p[2 * r + s1, 2 * r + s2, 2 * r + (1 - t)] += noise / 8
    return pid_task(p, f"pid-noisy-mix-{noise:g}",
                    _same(red=1.0, syn=1.0 - binary_entropy_bits(noise)),
                    f"shared bit R plus XOR flipped with probability {noise:g}")


def pid_gates() -> list[PIDTask]:
    """XOR, AND, RDN, UNQ, COPY and the noisy mix (a fresh list each call)."""
    return [xor_gate(), and_gate(), rdn_gate(), unq_gate(), copy_gate(), noisy_mix_gate()]


def get_gate(name: str) -> PIDTask:
    """A gate by name: ``"xor"``, ``"and"``, ``"rdn"``, ``"unq"``, ``"copy"``, ``"noisy_mix"``
    (or the task name, e.g. ``"pid-xor"``)."""
    gates = {t.name: t for t in pid_gates()}
    key = name if name in gates else "pid-" + name.replace("_", "-")
    if key.startswith("pid-noisy-mix"):
        key = "pid-noisy-mix-0.1"
    if key not in gates:
        raise InputError(f"unknown gate {name!r}; gates are xor, and, rdn, unq, copy, noisy_mix")
    return gates[key]


__all__ = ["PIDTask", "pid_task", "pid_gates", "get_gate", "xor_gate", "and_gate", "rdn_gate",
           "unq_gate", "copy_gate", "noisy_mix_gate", "binary_entropy_bits"]
