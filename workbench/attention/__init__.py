"""Attention: entropy of attention maps (per query, head and layer) with collapse/overload flags,
a recorder that captures per-head maps from torch models, and a tiny character transformer."""
