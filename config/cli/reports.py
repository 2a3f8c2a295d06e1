"""Reports, notices and the privacy self-audit at the command line (PRIV-10, 11, 15)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
