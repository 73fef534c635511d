"""Per-epoch measurement of a network's layers: torch probes (forward hooks), the epoch-tracker
base with the one per-layer measure loop, the information plane, the representation-entropy
tracker, and tidy-to-wide tables for plots. Every tracker emits rows of one tidy schema."""
