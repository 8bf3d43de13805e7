"""Dialogs reached from the Tools and Help menus."""
