"""House accounts (charge accounts): named customers who run a tab the restaurant invoices and collects."""
