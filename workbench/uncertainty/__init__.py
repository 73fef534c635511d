"""Predictive uncertainty: total = aleatoric + epistemic from an ensemble or MC dropout, and a
small seeded demo to see it."""
