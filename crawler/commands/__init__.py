"""The commands of the ``wirearchive`` CLI, one module each."""
