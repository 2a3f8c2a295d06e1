"""The staff app's screens, one per module."""
