"""What every stage shares: the memory budget, checked archives, safe file writes, the RNG rule."""
