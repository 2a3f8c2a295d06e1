"""Migration revisions, applied in order by `reticent init` and `reticent migrate`."""
