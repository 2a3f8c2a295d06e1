"""Widgets shared by the staff app's screens."""
