"""Tests of the pure circulation rules."""
