"""Hotline analytics: the three rates, hotspots, recurring problems and health-check indicators.

Every function takes the orders table (and, where needed, the event log) of
:mod:`citycheck.listen.analytics.frames`; adapters in :mod:`.sources` and :mod:`.store_adapter`
turn CSV exports and the hotline store into those tables.
"""
