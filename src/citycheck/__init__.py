"""citycheck: the city health check (城市体检) from open data.

Four parts, one subpackage each: :mod:`citycheck.evaluate` (indicator catalogue, scoring),
:mod:`citycheck.access` (walking-network life circles), :mod:`citycheck.listen` (citizen
service hotline), :mod:`citycheck.report` and :mod:`citycheck.plan`; :mod:`citycheck.io` reads
and writes data. The library never configures logging.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
