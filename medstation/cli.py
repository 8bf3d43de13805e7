"""Headless commands: ``medstation <command> ...``. Never imports Qt.

Each pane contributes its sub-commands from a module in ``medstation/commands/`` that defines
``register(subparsers)``; a handler is attached with ``parser.set_defaults(func=handler)`` and returns an exit code.
Modules there import only argparse-level things at the top, so ``medstation --help`` stays instant. Shared helpers
for commands (JSON output, terminal progress) are in ``medstation.commands._util``.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from typing import Sequence

from medstation import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medstation",
        description="MedStation: an explainable clinical workstation. Without a command, the window opens.")
    parser.add_argument("--version", action="version", version=f"MedStation {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the workstation window (optionally with a file or folder)")
    gui.add_argument("path", nargs="*", help="files or folders to open")
    gui.add_argument("--exit-after-shown", action="store_true", help=argparse.SUPPRESS)
    from medstation import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"medstation.commands.{info.name}")
        register = getattr(module, "register", None)
        if register:
            register(sub)
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from medstation.core import permissions
    from medstation.core.errors import MedStationError

    try:
        permissions.tighten()  # folders and files an older version left readable by others
        return int(func(args) or 0)
    except MedStationError as exc:
        print(f"medstation {args.command}: {exc.sentence()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"medstation {args.command}: interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(args, parser)
