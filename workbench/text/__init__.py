"""Entropy of text and language models."""
