"""API tokens: a random secret shown once, kept only as a SHA-256 hash.

Tokens carry 336 bits of randomness, so a fast unsalted hash is safe to store and lets a
request be authenticated with one indexed lookup (as GitHub and Stripe do).
"""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

TOKEN_LENGTH = 60
PREFIX_LENGTH = 12


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def make_token_secret(kind_prefix: str) -> str:
    """A fresh 60-character secret starting with `kind_prefix` (`rts_` store, `rtp_` partner)."""
    body_length = TOKEN_LENGTH - len(kind_prefix)
    return kind_prefix + secrets.token_urlsafe(body_length)[:body_length]


class ApiTokenBase(models.Model):
    """The shared shape of store and partner tokens; each subclass adds its owner."""

    name = models.CharField(max_length=100, blank=True, help_text="What the token is for.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    kind_prefix = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'token'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def set_new_secret(self) -> str:
        """Give the token a new secret and return it: the only time it is ever visible."""
        secret = make_token_secret(self.kind_prefix)
        self.prefix = secret[:PREFIX_LENGTH]
        self.key_hash = hash_token(secret)
        return secret
