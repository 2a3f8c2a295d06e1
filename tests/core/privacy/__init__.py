"""Tests of the privacy engine."""
