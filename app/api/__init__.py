"""The JSON API for integrations (an ERP) under /api/v1."""
