"""Shared dependencies: the hotline store, staff authentication, the rate limiter."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from citycheck.listen.store import Hotline, Staff

_bearer = HTTPBearer(auto_error=False)


async def get_hotline(request: Request) -> Hotline:
    """The app's :class:`Hotline` (tests swap it through ``app.state.hotline``).

    ``async`` so that FastAPI calls it on the event loop: a plain function dependency costs a
    hop to the thread pool on every request.
    """
    return request.app.state.hotline


async def get_staff(
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    hotline: Hotline = Depends(get_hotline),
) -> Staff:
    """The authenticated staff member (``Authorization: Bearer TOKEN``); 401 otherwise.

    A token seen within the cache period is answered on the event loop; otherwise the
    database read runs in the thread pool.
    """
    token = creds.credentials if creds else None
    staff = hotline.staff_known(token)
    if staff is None:
        staff = await run_in_threadpool(hotline.staff_for_token, token)
    if staff is None:
        raise HTTPException(
            401, "a valid staff bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return staff


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency that lets only ``roles`` through (403 otherwise)."""

    async def check(staff: Staff = Depends(get_staff)) -> Staff:
        if staff.role not in roles:
            raise HTTPException(403, f"role {staff.role!r} may not do this")
        return staff

    return check


class RateLimiter:
    """Sliding-window limit of events per key per minute (one process; in memory)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Record a hit for ``key``; False when it is over the limit."""
        t = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[key]
            while q and q[0] <= t - 60.0:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(t)
            return True
