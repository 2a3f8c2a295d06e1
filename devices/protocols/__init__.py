"""Pure device protocols: barcode framing, check digits, RFID tag data and reader frames."""
