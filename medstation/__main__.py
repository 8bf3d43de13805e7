"""Entry point for ``medstation`` and ``python -m medstation``: the window, or a headless command."""
from __future__ import annotations

import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    import os

    os.umask(0o077)  # every file this process creates is private (database, caches, logs, exports)
    from medstation import cli

    parser = cli.build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui") and not getattr(args, "func", None):
        from medstation.gui.app import main as gui_main

        return gui_main(paths=getattr(args, "path", []) or [],
                        exit_after_shown=getattr(args, "exit_after_shown", False))
    return cli.run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
