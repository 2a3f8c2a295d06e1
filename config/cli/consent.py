"""Privacy policy versions, consents and patron export at the command line (PRIV-01, 02, 04)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
