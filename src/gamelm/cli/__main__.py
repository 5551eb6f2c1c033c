"""``python -m gamelm.cli`` (what ``accelerate launch`` and the tests run)."""

from gamelm.cli import main

main()
