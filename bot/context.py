"""What every command needs, built once at start-up: settings, configuration and the store."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from tracker.config import Config, load_config
from tracker.settings import Settings


@dataclass
class Context:
    """Settings, configuration and (opened on first use) the store and its figures."""

    settings: Settings
    config: Config
    _figures: object = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Context":
        """Read settings from the environment and the configuration they name."""
        settings = Settings.from_env(env)
        return cls(settings=settings, config=load_config(settings.config_path))

    @cached_property
    def store(self):
        """The store, with its tables created."""
        from tracker.store import Store

        store = Store(self.settings.database_url)
        store.create()
        return store

    def figures(self, refresh: bool = False):
        """The stored figures as a FigureTable (read once; `refresh` reads again)."""
        if self._figures is None or refresh:
            self._figures = self.store.figure_table()
        return self._figures
