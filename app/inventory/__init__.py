"""Inventory: stock items, locations, recipes, stock moves, depletion, receiving, counts."""
