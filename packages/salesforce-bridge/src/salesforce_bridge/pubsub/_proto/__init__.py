"""Generated Pub/Sub API stubs (build output, see hatch_build.py)."""
