"""``python -m gamelm.cli`` (what ``accelerate launch`` and the tests run)."""

from gamelm.cli import main

if __name__ == "__main__":  # not when a tool imports every module (pytest's doctest collection)
    main()
