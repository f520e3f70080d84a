"""kitchen."""
