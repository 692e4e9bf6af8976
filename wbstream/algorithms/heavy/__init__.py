"""L1 heavy hitters (insertion-only): Misra–Gries and Count-Min."""
