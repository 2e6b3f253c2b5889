"""Every web app, in FastAPI's router + dependencies layout.

- :mod:`.hotline`: the hotline's Open311 GeoReport v2 and staff API (``citycheck hotline serve``);
- :mod:`.dashboard`: the map dashboard of run folders (``citycheck serve``);
- :mod:`.ingest`: the lifeline sensor-reading ingest endpoint.
"""
