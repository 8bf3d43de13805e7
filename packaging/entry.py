"""Entry point of the frozen application (same as ``python -m medstation``)."""
import sys

from medstation.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
