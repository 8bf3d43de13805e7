"""Entry point of the frozen application (same as ``python -m medstation``).

The frozen build leaves without interpreter finalisation: torch's static extension types can be freed while
modules are torn down, which crashes a frozen process at exit (SIGSEGV in type_dealloc) after the work succeeded.
Everything MedStation writes is committed before ``main`` returns (SQLite transactions, atomic files, jobs
drained), so the logs and streams are flushed and the process exits with main's status.
"""
import logging
import os
import sys

if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--gdcm-child":
    # GDCM decoding one file in its own process (medstation.core.imaging.plugins.gdcm_pixels): the build has no
    # Python interpreter to run ``-c`` with, so its own executable is started with this flag
    from medstation.core.imaging.plugins import _gdcm_child

    os._exit(_gdcm_child(sys.argv[2], sys.argv[3]))

from medstation.__main__ import main  # noqa: E402 - after the child's early exit, which needs none of it

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
