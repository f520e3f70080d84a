"""Reservations and the walk-in waitlist: the host's book, tables held on the floor, parties seated with their guest."""
