"""REST v3 methods (filled in below)."""
