"""Adversaries, one module per attack family."""
