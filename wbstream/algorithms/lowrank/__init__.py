"""Low-rank sketches: projections, Frequent Directions, and robust rank-k recovery (Gabidulin + fjw24 tester)."""
