"""Guest records: who eats here, what they cannot eat, what they like, and whether they may be written to."""
