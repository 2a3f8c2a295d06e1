"""Domain model, pure policies, services, privacy engine and store of reticent."""
