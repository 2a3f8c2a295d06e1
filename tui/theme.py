"""The app's themes: the default, and a monochrome high-contrast one (also used under NO_COLOR)."""

from __future__ import annotations

from collections.abc import Mapping

from textual.theme import Theme

DEFAULT_THEME = "reticent"
CONTRAST_THEME = "reticent-contrast"

THEMES = (
    Theme(
        name=DEFAULT_THEME,
        primary="#4F9FD8",
        secondary="#7FB77E",
        accent="#E0A030",
        warning="#E0A030",
        error="#E05A4F",
        success="#6FBF73",
        foreground="#E8E8E8",
        background="#151A20",
        surface="#1E252D",
        panel="#27313B",
        dark=True,
    ),
    # Black and white only, bright focus: readable on any terminal, projector or screen reader
    # set-up; refusals stay recognisable by their words, never by colour alone.
    Theme(
        name=CONTRAST_THEME,
        primary="#FFFFFF",
        secondary="#FFFFFF",
        accent="#FFFFFF",
        warning="#FFFFFF",
        error="#FFFFFF",
        success="#FFFFFF",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#000000",
        boost="#FFFFFF",
        dark=True,
        luminosity_spread=0.0,
        text_alpha=1.0,
    ),
)


def initial_theme(environ: Mapping[str, str], requested: str | None = None) -> str:
    """The theme to start with: the one asked for, else monochrome when NO_COLOR is set."""
    if requested is not None:
        return requested
    return CONTRAST_THEME if "NO_COLOR" in environ else DEFAULT_THEME
