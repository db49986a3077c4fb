"""Analysis tools: feature maps and attention maps of trained agents."""
