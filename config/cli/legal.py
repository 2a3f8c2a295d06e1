"""Legal requests, sharing, warrant canary and breach reports at the command line (PRIV-12..15)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this topic's subcommands."""
