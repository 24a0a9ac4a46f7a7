"""`obsession pull`: run every configured data source now and report what each brought."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Pull every source; exit 1 when any failed (after all were tried)."""
    from data_sources.pull import pull_all

    if not ctx.config.sources:
        print(f"No data sources are configured in {ctx.config.path}; add [[sources]] tables (see the README).")
        return 0
    results = pull_all(ctx)
    for r in results:
        print(r.describe())
        for note in r.notes:
            print(f"  note: {note}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"{len(failed)} of {len(results)} source(s) failed: {', '.join(failed)}")
        return 1
    return 0
