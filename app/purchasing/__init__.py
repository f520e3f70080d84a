"""Purchasing: suppliers and their items, suggested orders, purchase orders, receiving, credit notes."""
