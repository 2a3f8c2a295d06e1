"""Service calls off the UI thread: every database touch runs in a thread worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from textual.dom import DOMNode
from textual.worker import Worker

from core.errors import ReticentError

T = TypeVar("T")
log = logging.getLogger("reticent.tui")


def refusal_text(error: Exception) -> str:
    """The sentence a screen shows for a refusal; a reason code is added when there is one."""
    reason = getattr(error, "reason", None)
    text = str(error) or type(error).__name__
    return f"{text} [{reason.value}]" if reason is not None else text


def call_service(
    node: DOMNode,
    job: Callable[[], T],
    done: Callable[[T], None],
    failed: Callable[[str], None],
    *,
    group: str = "service",
    exclusive: bool = False,
) -> Worker[None]:
    """Run `job` in a thread worker; `done(result)` or `failed(sentence)` then run on the UI thread.

    Refusals (ReticentError) and bad values (ValueError) become sentences; anything else is a
    bug and ends the worker with the error, as Textual does.
    """
    app = node.app

    def run() -> None:
        try:
            result = job()
        except (ReticentError, ValueError) as error:
            app.call_from_thread(failed, refusal_text(error))
            return
        app.call_from_thread(done, result)

    return node.run_worker(run, thread=True, group=group, exclusive=exclusive)
