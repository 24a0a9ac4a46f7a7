"""`obsession import FILE...`: validate and load figures, all or nothing."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Check every file, then load all their figures in one transaction and say what changed."""
    from data_sources.importing import import_files

    # --obsession, --from and --as-of are for the record-level formats (ssda903, nccis)
    record_options = {k: getattr(args, a, None) for k, a in (("obsession", "obsession"), ("start", "from_date"),
                                                             ("as_of", "as_of"))}
    summary, notes = import_files(ctx.store, args.files, ctx.config, fmt=args.format, la=args.la,
                                  sheet=args.sheet, **{k: v for k, v in record_options.items() if v is not None})
    for note in notes:
        print(f"note: {note}")
    print(f"Imported {len(args.files)} file(s) into the store: {summary.describe()}.")
    return 0
