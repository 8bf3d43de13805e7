"""Sub-commands of the ``medstation`` CLI, one module per area; each defines ``register(subparsers)``."""
