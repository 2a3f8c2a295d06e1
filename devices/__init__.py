"""Barcode scanners and RFID readers: pure protocols, trio drivers, simulators."""
