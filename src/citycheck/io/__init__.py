"""Reading and writing data: OpenStreetMap, boundaries, census tables, run folders.

Nothing outside this subpackage touches files.
"""
