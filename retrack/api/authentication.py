"""Bearer-token authentication shared by the store API and the partner API.

Both kinds of token are recognised everywhere, so that a token of the wrong kind is told
apart from no token: the permission classes answer 403 for the wrong kind, 401 for none.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from partners.models import Partner, PartnerToken
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


def _find_token(secret: str) -> StoreToken | PartnerToken | None:
    key_hash = hash_token(secret)
    if secret.startswith(StoreToken.kind_prefix):
        queryset = StoreToken.objects.select_related("store")
    elif secret.startswith(PartnerToken.kind_prefix):
        queryset = PartnerToken.objects.select_related("partner")
    else:
        return None
    # get(), not first(): key_hash is unique, and first() would add an ORDER BY to compile.
    try:
        return queryset.get(key_hash=key_hash, revoked_at__isnull=True)
    except queryset.model.DoesNotExist:
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
