"""Tests of the SIP2 package."""
