"""What runs on your machine: everything of albumreg that is not in Lambda or the Pulumi program.

Five rooms, each importing only the ones below it (``tests/unit/test_import_boundaries.py``):
``cli`` (the ``albumreg`` command) on top; ``tools`` (benches, the report, sample photos,
repository metrics); ``cloud`` (the emulated AWS on 127.0.0.1) and ``dashboard`` (Streamlit);
``client`` (reaching a running system, local or deployed) at the bottom, over ``handlers``.
"""
