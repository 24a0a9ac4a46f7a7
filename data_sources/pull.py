"""Running every configured source now: each is checked and saved on its own, and one failing never stops the others."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from tracker.errors import ObsessionError


@dataclass
class SourceResult:
    """What one source brought, or why it failed."""

    name: str
    kind: str
    ok: bool
    summary: object = None          # tracker.store.LoadSummary when ok
    message: str = ""               # why it failed
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line (more when it failed with several problems) for the operator."""
        if self.ok:
            return f"{self.name} ({self.kind}): {self.summary.describe()}"
        return f"{self.name} ({self.kind}): FAILED: {self.message}"


def pull_all(ctx, today: date | None = None, env: Mapping[str, str] | None = None) -> list[SourceResult]:
    """Run every configured source into ctx.store (ctx: .config and .store); ConfigError when [[sources]] is wrong.

    The caller reads its figures again afterwards (the weekly run does: ctx.figures(refresh=True)).
    """
    from .sources import parse_sources

    env = os.environ if env is None else env
    results = []
    for source in parse_sources(ctx.config):   # a wrong [[sources]] table stops here, before any source runs
        try:
            loaded = source.load(ctx.config, env, today)
            summary = ctx.store.save_figures(loaded.frame, loaded.source)
            results.append(SourceResult(source.name, source.kind, True, summary, notes=loaded.notes))
        except ObsessionError as e:
            results.append(SourceResult(source.name, source.kind, False, message=str(e)))
        except Exception as e:   # a driver or network error: report it by name and go on with the others
            text = str(e).strip().splitlines()[0] if str(e).strip() else ""
            results.append(SourceResult(source.name, source.kind, False,
                                        message=f"{type(e).__name__}: {text}"))
    return results
