"""Orders: checks, lines by seat and course, hold and fire."""
