"""Double-entry accounting: accounts, balanced entries, reversals, trial balance, exports (no restaurant words)."""
