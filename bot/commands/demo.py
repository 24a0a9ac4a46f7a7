"""`obsession demo`: seed the demo figures (idempotent) and run this week's job into the outbox."""
from __future__ import annotations

from dataclasses import replace

from tracker.config import load_config
from tracker.settings import mask_url


def run(args, ctx) -> int:
    """Seed the store with the synthetic figures, then render every tracker into the outbox."""
    from renderers.formatting import illustrative_notice
    from tracker.demo_data import SOURCE, demo_frame

    config = load_config(None)   # the demo's figures belong to the built-in Leeds configuration
    ctx = replace(ctx, config=config, _figures=None)
    summary = ctx.store.save_figures(demo_frame(config), SOURCE)
    print(f"Demo figures in {mask_url(ctx.settings.database_url)}: {summary.describe()}.")
    print(illustrative_notice(config.city))
    from data_sources.benchmark_import import import_published
    from tracker.demo_data import published_files

    for fmt, path in published_files():   # the DfE's real figures: the benchmarks beside the synthetic ones
        import_published(ctx.store, [path], config, fmt)
    print("Published benchmarks (Department for Education, OGL v3.0) loaded from tracker/published/.")
    from bot.jobs import weekly_job

    code = weekly_job(ctx)
    print("The analyst's console on the demo: make an account, start the web process, then open the address:\n"
          "  .venv/bin/obsession console-user add you@example.gov.uk --role approver\n"
          "  .venv/bin/obsession serve\n"
          "  http://127.0.0.1:8000/console/")
    return code
