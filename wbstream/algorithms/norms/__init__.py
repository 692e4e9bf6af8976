"""Norm and frequency-moment estimation."""
