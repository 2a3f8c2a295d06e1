"""Simulated scanners and RFID readers on pseudo-terminals, speaking the real byte protocols."""
