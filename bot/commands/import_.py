"""`obsession import FILE...`: validate and load figures, all or nothing."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Check every file, then load all their figures in one transaction and say what changed."""
    from data_sources.importing import import_files

    summary, notes = import_files(ctx.store, args.files, ctx.config, fmt=args.format, la=args.la,
                                  sheet=args.sheet)
    for note in notes:
        print(f"note: {note}")
    print(f"Imported {len(args.files)} file(s) into the store: {summary.describe()}.")
    return 0
