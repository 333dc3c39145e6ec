"""Standard Webhooks (1.0) signing: the secret format and the `webhook-signature` header.

The secret is `whsec_` and base64 of 32 random bytes; the HMAC-SHA256 key is those bytes.
The signature covers `<webhook-id>.<webhook-timestamp>.<raw body>`, so a receiver that
checks it (and the timestamp's age) knows the body is ours, unaltered and not replayed.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_webhook_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_webhook(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
