"""The store and unit-of-work types, for interfaces that call services but never the store."""

from __future__ import annotations

from core.store.uow import Store, UnitOfWork

__all__ = ["Store", "UnitOfWork"]
