"""Personal data: redaction of free text shown publicly, and encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.fernet import Fernet, InvalidToken

# Mainland mobile numbers (1[3-9]x, 11 digits), landlines with area code, and 18-character
# resident ID numbers (GB 11643-1999: 17 digits + a digit or X).  International formats too.
_ID_CARD = re.compile(
    r"(?<!\d)\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![\dA-Za-z])"
)
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(?:\(?0\d{2,3}\)?[-\s]?)\d{7,8}(?!\d)")
_INTL_PHONE = re.compile(r"(?<![\w\d])\+?\d[\d\-\s().]{8,}\d(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A name after 我叫 / 本人 / 我是 (2–4 CJK characters), also "my name is X".
_NAME_ZH = re.compile(r"(我叫|本人(?:名叫|叫|是)?|我的名字是|我是)\s*([\u4e00-\u9fff·]{2,4})")
_NAME_EN = re.compile(r"(?i)\b(my name is|i am called)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")

MASK = "*"


def redact(text: str | None) -> str:
    """Remove phone numbers, ID card numbers, e-mails and self-introduced names from text.

    Parameters
    ----------
    text
        Free text written by a requester.

    Returns
    -------
    str
        The text with each match replaced by ``[phone]``, ``[id]``, ``[email]`` or ``[name]``
        (after the introducing words, which stay).

    Examples
    --------
    >>> redact("我叫张三，电话13812345678")
    '我叫[name]，电话[phone]'
    """
    if not text:
        return ""
    out = _ID_CARD.sub("[id]", text)
    out = _EMAIL.sub("[email]", out)
    out = _MOBILE.sub("[phone]", out)
    out = _LANDLINE.sub("[phone]", out)
    out = _INTL_PHONE.sub(_maybe_phone, out)
    out = _NAME_ZH.sub(lambda m: m.group(1) + "[name]", out)
    out = _NAME_EN.sub(lambda m: m.group(1) + " [name]", out)
    return out


def _maybe_phone(m: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in m.group(0))
    # dates like 2020-01-07 have 8 digits; phone numbers 9+
    return (
        "[phone]"
        if digits >= 9 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", m.group(0))
        else m.group(0)
    )


def key_from_secret(secret: str) -> bytes:
    """A Fernet key derived from a settings secret (any string); SHA-256, url-safe base64."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())


class FieldCipher:
    """Encrypts personal fields at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("an encryption secret is required (CITYCHECK_HOTLINE_SECRET)")
        self._fernet = Fernet(key_from_secret(secret))

    def encrypt(self, value: str | None) -> bytes | None:
        """Ciphertext of ``value`` (None stays None)."""
        if value is None or value == "":
            return None
        return self._fernet.encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes | None) -> str | None:
        """Plain text of ``token``; ValueError if the key is wrong."""
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt a personal field: wrong encryption secret") from exc


def hash_secret(value: str) -> str:
    """SHA-256 hex digest of an API key or staff token (keys are high-entropy random strings)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
