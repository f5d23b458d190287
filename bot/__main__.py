"""`python -m bot` is the `rangkul` command."""

from bot.cli import main

raise SystemExit(main())
