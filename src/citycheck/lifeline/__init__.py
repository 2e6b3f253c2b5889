"""Lifeline safety (城市生命线安全): pipeline register, failure risk, hydraulic criticality,
monitoring and alarms, renewal priorities.

Modules
-------
reference
    networks, materials and break-model defaults (``lifeline.toml``).
register
    asset register from EPANET ``.inp`` (WNTR) and GIS layers, with validation.
"""
