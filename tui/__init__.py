"""Staff and kiosk terminal user interfaces (Textual) and the SSH gateway."""
