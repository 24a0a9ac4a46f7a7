"""One module per command, each with run(args, ctx) -> exit code."""
