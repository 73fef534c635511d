"""Neural variational MI estimators: critics, bounds, and the registered estimators (MINE, NWJ,
InfoNCE, SMILE) that train one on the other."""
from .estimators import MINE, NWJ, SMILE, InfoNCE, NeuralEstimator

__all__ = ["NeuralEstimator", "MINE", "NWJ", "InfoNCE", "SMILE"]
