"""Entry point of the frozen application (same as ``python -m medstation``).

The frozen build leaves without interpreter finalisation: torch's static extension types can be freed while
modules are torn down, which crashes a frozen process at exit (SIGSEGV in type_dealloc) after the work succeeded.
Everything MedStation writes is committed before ``main`` returns (SQLite transactions, atomic files, jobs
drained), so the logs and streams are flushed and the process exits with main's status.
"""
import logging
import os
import sys

from medstation.__main__ import main

if __name__ == "__main__":
    try:
        code = main()
    except SystemExit as exc:  # argparse's --help/--version and usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))
