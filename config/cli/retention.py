"""Purge, backup, restore and rekey at the command line (PRIV-07, PRIV-08)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
