"""napari dock widgets; reached only through ``napari.yaml`` (nothing is imported here)."""
