"""A venue's link to its head office: the credentials, the sync outbox and the sender that empties it."""
