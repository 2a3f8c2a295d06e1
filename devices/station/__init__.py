"""The headless station: scans and RFID tags become SIP2 checkins or item lookups."""
