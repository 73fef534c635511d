"""Score-based (diffusion) estimators: ``minde`` (MI and entropy, Franzese et al. 2024) and
``soi`` (O-information and S-information, Bounoua et al. 2024). Torch is imported only when an
estimate runs (:mod:`.model`)."""
from .minde import MINDE
from .soi import SOI

__all__ = ["MINDE", "SOI"]
