"""The citizen service hotline: work orders, Open311 GeoReport v2, analytics."""
