"""How fresh and how long the dashboard's lists are: its own numbers, nothing else reads them.

Each page trades freshness for reads: a listing cached for seconds keeps a reviewer's page
current without a Query per click, and timings change only when a workflow ends.
"""

from __future__ import annotations

DASHBOARD_CACHE_TTL_SECONDS = 5
"""Listings in the dashboard are at most this old: a new review shows up within seconds."""

DASHBOARD_METRICS_TTL_SECONDS = 30
"""Execution timings change only when a workflow finishes: read histories at most this often."""

DASHBOARD_TIMED_EXECUTIONS = 50
"""Newest completed executions per pattern whose timings the comparison reads (and caches)."""

DASHBOARD_LISTING_LIMIT = 100
"""Newest uploads per pattern and status the albums page lists, and the success-rate window."""

DASHBOARD_OPEN_REVIEWS = 50
"""Open reviews listed per pattern; more than this waiting means the reviewers are behind."""

DASHBOARD_REVIEWS_PER_PAGE = 5
"""Review cards drawn at once: each one reads its image and both review items."""

DASHBOARD_THUMBNAIL_PX = 640
"""Long edge of the thumbnail the reviews page shows (the full photo stays in S3)."""
