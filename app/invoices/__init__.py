"""Customer invoices and credit notes for closed checks, each in its own unbroken numbered series."""
