"""Bearer-token authentication shared by the store API and the partner API.

Both kinds of token are recognised everywhere, so that a token of the wrong kind is told
apart from no token: the permission classes answer 403 for the wrong kind, 401 for none.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from partners.models import Partner, PartnerToken
from retrack.lib.plain_sql import ModelColumns, cache_relation, fetch_row
from retrack.lib.tokens import hash_token
from stores.models import Store, StoreToken

# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiClient:
    """Who is calling: exactly one of store or partner."""

    token: StoreToken | PartnerToken
    store: Store | None = None
    partner: Partner | None = None

    is_authenticated = True
    is_anonymous = False


class _TokenLookup:
    """A live token by its key hash, with its owner, in one hand-written SELECT.

    Every request of both APIs runs it; as plain SQL it costs a fifth of the queryset it
    replaces, and it still reads the database each time, so a revoked token is refused
    from the revoking transaction's commit on.
    """

    def __init__(self, model: type[StoreToken | PartnerToken], owner: str) -> None:
        self.owner = owner
        self.token = ModelColumns(model, "t")
        self.owned_by = ModelColumns(model._meta.get_field(owner).related_model, "o")
        self.sql = (
            f"SELECT {self.token.select}, {self.owned_by.select} "
            f"FROM {self.token.table} JOIN {self.owned_by.table} "
            f'ON o."id" = t."{owner}_id" '
            'WHERE t."key_hash" = %s AND t."revoked_at" IS NULL'
        )

    def find(self, key_hash: str) -> StoreToken | PartnerToken | None:
        row = fetch_row(self.sql, [key_hash])
        if row is None:
            return None
        token = self.token.build(row)
        cache_relation(token, self.owner, self.owned_by.build(row, len(self.token)))
        return token


_STORE_TOKENS = _TokenLookup(StoreToken, "store")
_PARTNER_TOKENS = _TokenLookup(PartnerToken, "partner")


def _find_token(secret: str) -> StoreToken | PartnerToken | None:
    if secret.startswith(StoreToken.kind_prefix):
        return _STORE_TOKENS.find(hash_token(secret))
    if secret.startswith(PartnerToken.kind_prefix):
        return _PARTNER_TOKENS.find(hash_token(secret))
    return None


def _touch(token: StoreToken | PartnerToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        type(token).objects.filter(pk=token.pk).update(last_used_at=now)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret or " " in secret:
            raise exceptions.AuthenticationFailed("Use the header 'Authorization: Bearer <token>'.")
        token = _find_token(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown or has been revoked.")
        _touch(token)
        if isinstance(token, StoreToken):
            return ApiClient(token=token, store=token.store), token
        return ApiClient(token=token, partner=token.partner), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="retrack"'


class IsStoreClient(permissions.BasePermission):
    message = "This call takes a store token; a partner token is refused here."

    def has_permission(self, request, view) -> bool:
        client = request.user
        return isinstance(client, ApiClient) and client.store is not None


class IsPartnerClient(permissions.BasePermission):
    message = "This call takes a partner token; a store token is refused here."

    def has_permission(self, request, view) -> bool:
        client = request.user
        return isinstance(client, ApiClient) and client.partner is not None
