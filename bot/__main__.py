"""`python -m bot` is the `obsession` command."""
from bot.cli import main

raise SystemExit(main())
