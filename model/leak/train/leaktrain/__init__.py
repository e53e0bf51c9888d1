"""Corpus generation and training for Bulwark's response-leakage model."""
