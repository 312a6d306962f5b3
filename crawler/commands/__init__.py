"""The commands of the ``wirearchive`` CLI, one module each: ``add_parser`` and ``run``."""
