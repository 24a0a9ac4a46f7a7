"""The analyst's console: load, check, approve and follow each week in a browser (mounted at /console/).

It calls the same functions the commands call (the importer, the quality gate, the ledger, the
weekly run); nothing here is a second implementation of them.
"""
from __future__ import annotations


def extra_routes(console) -> list:
    """The routes of the console's parts beyond signing in and the week page."""
    from . import approval, history, load

    routes = [*load.routes(console), *history.routes(console), *approval.routes(console)]
    return routes
