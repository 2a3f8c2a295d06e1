"""The screens a member of staff can go to, and the permission that makes each worth showing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen

from core.services.actors import Actor, Permission
from tui.context import Desk


@dataclass(frozen=True)
class Destination:
    """A screen in the Go-to list and the command palette.

    `permission` only decides whether it is listed: the services behind the screen check
    every call themselves, so a screen reached anyway shows their refusals (PRIV-05).
    """

    name: str
    title: str
    permission: Permission | None
    build: Callable[[Desk], Screen[None]]


def _desk(desk: Desk) -> Screen[None]:
    from tui.screens.desk import DeskScreen

    return DeskScreen(desk)


DESTINATIONS: tuple[Destination, ...] = (
    Destination("desk", "Circulation desk", Permission.CIRCULATE, _desk),
)


def listed_for(actor: Actor) -> tuple[Destination, ...]:
    return tuple(d for d in DESTINATIONS if d.permission is None or actor.may(d.permission))


def by_name(name: str) -> Destination:
    (found,) = [d for d in DESTINATIONS if d.name == name]
    return found
