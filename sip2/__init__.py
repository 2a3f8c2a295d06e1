"""SIP2 for self-check kiosks, book drops and sorters: codec, handlers, server, client."""
