"""`obsession import FILE...`: validate and load figures, all or nothing."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Check every file, then load all their figures in one transaction and say what changed."""
    from data_sources.importing import import_files

    # --obsession, --from and --as-of are for the record-level formats (ssda903, nccis)
    record_options = {k: getattr(args, a, None) for k, a in (("obsession", "obsession"), ("start", "from_date"),
                                                             ("as_of", "as_of"))}
    if getattr(args, "dry_run", False):
        return _dry_run(args, ctx, {k: v for k, v in record_options.items() if v is not None})
    summary, notes = import_files(ctx.store, args.files, ctx.config, fmt=args.format, la=args.la,
                                  sheet=args.sheet, **{k: v for k, v in record_options.items() if v is not None})
    for note in notes:
        print(f"note: {note}")
    print(f"Imported {len(args.files)} file(s) into the store: {summary.describe()}.")
    return 0


def _dry_run(args, ctx, record_options) -> int:
    """--dry-run: check every file and say what loading would change (each revised figure); write nothing."""
    from data_sources.importing import load_files, preview_load

    loaded = load_files(args.files, ctx.config, fmt=args.format, la=args.la, sheet=args.sheet, **record_options)
    preview = preview_load(ctx.store, loaded)
    for note in loaded.notes:
        print(f"note: {note}")
    for r in preview.revisions:
        print(f"revised: {r['week']:%Y-%m-%d} {r['obsession']} {r['area']}: {r['old']:g} -> {r['new']:g}")
    print(f"Dry run, nothing written: loading {len(args.files)} file(s) would give {preview.summary.describe()}.")
    return 0
