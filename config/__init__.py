"""Configuration, wiring of concrete objects, and the `reticent` command line."""
