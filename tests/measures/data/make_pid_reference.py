"""Regenerate pid_dit_reference.json: dit's PID_WB and PID_BROJA atoms (bits) of 20 random
2x2x2 and 20 random 3x3x4 joint pmfs (Dirichlet(1), seed 2024).

PID_BROJA uses dit's exponential-cone solver (``method="cone"``, Makkeh, Theis & Vicente 2018,
through ECOS: ``pip install dit ecos``), an interior-point method that solves the convex
problem to ~1e-9. dit's other solvers are not used: its default SLSQP from random starting
points and its alternating "admui" iteration both stop short of, or (infeasibly) below, the
minimum on several of these pmfs, by more than 0.1 bit (negative redundancies); dit derives each
unique atom from the approximate optimum separately, so the errors do not cancel.

Run by hand: python tests/measures/data/make_pid_reference.py
"""
import json
from pathlib import Path

import numpy as np

KEYS = {"redundancy": ((0,), (1,)), "unique1": ((0,),), "unique2": ((1,),),
        "synergy": ((0, 1),)}


def random_pmfs():
    rng = np.random.default_rng(2024)
    return [rng.dirichlet(np.ones(int(np.prod(s)))).reshape(s)
            for s in [(2, 2, 2)] * 20 + [(3, 3, 4)] * 20]


def dit_atoms(p, measure):
    import dit
    from dit.pid import PID_BROJA, PID_WB

    outcomes = [idx for idx in np.ndindex(*p.shape)]
    dist = dit.Distribution(outcomes, [p[o] for o in outcomes])
    if measure == "imin":
        result = PID_WB(dist, [[0], [1]], [2])
    else:
        result = PID_BROJA(dist, [[0], [1]], [2], method="cone")
    return {atom: float(result.get_pi(key)) for atom, key in KEYS.items()}


def main():
    # resumable: finished cases are kept in a partial file (dit's BROJA takes seconds a case)
    partial = Path(__file__).with_name("pid_dit_reference.partial.json")
    rows = json.loads(partial.read_text()) if partial.exists() else []
    for p in random_pmfs()[len(rows):]:
        rows.append({"pmf": p.tolist(), "imin": dit_atoms(p, "imin"),
                     "broja": dit_atoms(p, "broja")})
        partial.write_text(json.dumps(rows))
    import dit
    out = {"dit_version": dit.__version__, "seed": 2024,
           "broja": "dit PID_BROJA(method='cone'), ECOS", "cases": rows}
    Path(__file__).with_name("pid_dit_reference.json").write_text(json.dumps(out, indent=1))
    partial.unlink()


if __name__ == "__main__":
    main()
