"""The hotline's web API: Open311 GeoReport v2 (one router per resource) and the staff API."""
