"""The distributed model: s servers, a coordinator, plain or BFV-encrypted aggregation."""
