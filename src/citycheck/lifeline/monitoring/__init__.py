"""Sensor monitoring: ingest, store, anomaly detection, alarms."""
