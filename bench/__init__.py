"""Brigade's benchmark: a load generator over real HTTP and websockets on loopback."""
