"""Acting on results: reports, maps, dashboard, facility siting."""
