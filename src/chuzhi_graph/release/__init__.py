"""Stage 3 (read side), the release: one built graph opened for reading (``Release``), pushed to a remote
store, or compared with another (diff)."""
