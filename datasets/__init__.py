"""Bundled bitmap files, installed as ``genval.datasets``.

Read them through :func:`genval.load_dataset` (``"font"``, ``"emojis"``), which
finds them from any working directory.
"""
