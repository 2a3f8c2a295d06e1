"""Opening the encrypted store, units of work, and schema migrations."""
