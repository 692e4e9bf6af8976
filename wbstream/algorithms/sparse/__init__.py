"""k-sparse recovery with detection."""
