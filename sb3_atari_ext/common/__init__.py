"""Logic shared by our algorithms and buffers (one place for the double-Q target and PER update)."""
