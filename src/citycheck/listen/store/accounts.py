"""The hotline store's accounts: Open311 api keys and staff members with their bearer tokens.

Keys and tokens are stored as hashes only and returned once, when made.  A key or token found
valid is remembered for ``settings.api_key_cache_s`` seconds, so a busy client or desk does not
cost one database read per request.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from sqlalchemy import select

from citycheck.listen.models import ApiKey, StaffUser
from citycheck.listen.privacy import hash_secret
from citycheck.listen.store.core import Staff, StoreCore

ROLES = ("dispatcher", "unit", "supervisor", "admin")


class Accounts:
    """Api keys and staff accounts.

    Parameters
    ----------
    core
        The shared database and settings.
    """

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self._valid_keys: dict[str, float] = {}  # key hash -> monotonic time it is trusted until
        # token hash -> (staff member, monotonic time trusted until)
        self._known_staff: dict[str, tuple[Staff, float]] = {}

    def create_api_key(self, name: str) -> str:
        """A new Open311 api_key; only its hash is stored, the key is returned once."""
        key = secrets.token_urlsafe(24)
        with self.core.write() as s:
            s.add(
                ApiKey(
                    name=name, key_hash=hash_secret(key), active=True, created_at=datetime.now(UTC)
                )
            )
        return key

    def check_api_key(self, key: str | None) -> bool:
        """True when ``key`` is an active key.

        A key found active is remembered for ``settings.api_key_cache_s`` seconds, so a busy
        client does not cost one database read per POST; a deactivated key is refused at the
        latest that long after the change.  Unknown keys are always looked up.
        """
        if not key:
            return False
        if self.api_key_known_valid(key):
            return True
        digest = hash_secret(key)
        now = time.monotonic()
        with self.core.Session() as s:
            active = s.scalar(select(ApiKey.active).where(ApiKey.key_hash == digest))
        if active:
            self._valid_keys[digest] = now + self.core.settings.api_key_cache_s
        return bool(active)

    def api_key_known_valid(self, key: str | None) -> bool:
        """True when ``key`` was found active within the cache period (no database read)."""
        if not key:
            return False
        return self._valid_keys.get(hash_secret(key), 0.0) > time.monotonic()

    def create_staff(self, username: str, role: str, unit: str | None = None) -> str:
        """A staff account; returns its bearer token (stored hashed)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if role == "unit" and not unit:
            raise ValueError("a handling-unit account needs its unit")
        token = secrets.token_urlsafe(24)
        with self.core.write() as s:
            s.add(StaffUser(username=username, role=role, unit=unit, token_hash=hash_secret(token)))
        return token

    def staff_for_token(self, token: str | None) -> Staff | None:
        """The staff member holding ``token``, or None.

        A token found is remembered for ``settings.api_key_cache_s`` seconds (as api_keys
        are), so a busy dispatcher desk does not cost one database read per request; unknown
        tokens are always looked up.
        """
        if not token:
            return None
        known = self.staff_known(token)
        if known is not None:
            return known
        digest = hash_secret(token)
        now = time.monotonic()
        with self.core.Session() as s:
            u = s.scalars(select(StaffUser).where(StaffUser.token_hash == digest)).first()
            staff = Staff(u.username, u.role, u.unit) if u else None
        if staff is not None:
            self._known_staff[digest] = (staff, now + self.core.settings.api_key_cache_s)
        return staff

    def staff_known(self, token: str | None) -> Staff | None:
        """The staff member of ``token`` if found within the cache period (no database read)."""
        if not token:
            return None
        hit = self._known_staff.get(hash_secret(token))
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None
