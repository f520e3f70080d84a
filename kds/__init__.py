"""Kitchen display: station and expo boards, their websocket, bump and recall."""
