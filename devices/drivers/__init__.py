"""Device drivers on trio over serial ports, reconnecting on unplug."""
