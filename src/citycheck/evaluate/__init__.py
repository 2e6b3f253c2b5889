"""Evaluation: the indicator catalogue, indicator functions, scoring and diagnosis."""
