"""Copy-paste integration snippets for a store, per program (shown in the back office).

They carry the program's real event UUIDs and Retrack's public URL, so a store pastes
them and replaces only the example order values.
"""

import json
import re
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from retrack.lib.urls import split_allowed_domain
from stores.models import Event, EventKind, Program

SNIPPET_TEMPLATES = {
    "loader_transaction": "tag/snippets/loader_transaction.html",
    "lead": "tag/snippets/lead.html",
    "noscript_pixel": "tag/snippets/noscript_pixel.html",
    "redirect_page": "tag/snippets/redirect_page.html",
}
# Names end up inside JavaScript and HTML comments: keep only characters harmless there.
_UNSAFE_IN_COMMENT = re.compile(r"[^\w %.,:()+-]")
_JS_STRING_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def _label(text: str) -> str:
    return _UNSAFE_IN_COMMENT.sub("", text)[:80]


def _js(value: Any) -> str:
    """`value` as a JavaScript literal that cannot end the <script> element it sits in."""
    return mark_safe(json.dumps(value).translate(_JS_STRING_ESCAPES))


def _event(event: Event | None, kind: str, example: str = "Example product") -> dict[str, str]:
    """An event as the snippets show it; `product_js` names an example product line after
    the event (the program's own "Tents and gear", not a made-up "Running shoe")."""
    if event is None:
        return {
            "uuid": "EVENT_UUID",
            "label": f"this program has no {kind} event yet",
            "product_js": _js(example),
        }
    return {
        "uuid": str(event.uuid),
        "label": _label(f"{event.name}: {event.commission_label}"),
        "product_js": _js(f"{event.name}: {example.lower()}"),
    }


def _allowed_domains(program: Program) -> list[str]:
    entries = []
    for entry in program.allowed_domains:
        parsed = split_allowed_domain(entry) if isinstance(entry, str) else None
        if parsed is not None:
            host, port = parsed
            entries.append(host if port is None else f"{host}:{port}")
    return entries


def _snippet_context(program: Program) -> dict[str, Any]:
    """What the snippet templates are filled with."""
    events = list(program.events.order_by("name"))
    transaction_events = [event for event in events if event.kind == EventKind.TRANSACTION]
    lead_events = [event for event in events if event.kind == EventKind.LEAD]
    order_event = transaction_events[0] if transaction_events else None
    second_event = transaction_events[1] if len(transaction_events) > 1 else order_event
    public_url = settings.RETRACK_PUBLIC_URL
    return {
        "program_label": _label(program.name),
        "currency": program.currency,
        "tag_url_js": _js(f"{public_url}/track/v2/retrack.js"),
        "pixel_url": f"{public_url}/track/v2/pixel",
        "order_event": _event(order_event, "transaction"),
        "line_events": [
            _event(order_event, "transaction", "Example product 1"),
            _event(second_event, "transaction", "Example product 2"),
        ],
        "lead_event": _event(lead_events[0] if lead_events else None, "lead"),
        "redirect_page_url": program.redirect_page_url or "your redirect page URL",
        "landing_url": program.landing_url,
        "landing_url_js": _js(program.landing_url),
        "allowed_domains_js": _js(_allowed_domains(program)),
    }


def tag_loader_snippet() -> str:
    """The loader alone: what every page of a store carries."""
    tag_url_js = _js(f"{settings.RETRACK_PUBLIC_URL}/track/v2/retrack.js")
    return render_to_string("tag/snippets/loader.html", {"tag_url_js": tag_url_js}).strip()


def program_snippets(program: Program) -> dict[str, str]:
    """Copy-paste integration snippets for a program, keyed: 'loader_transaction',
    'lead', 'noscript_pixel', 'redirect_page'."""
    context = _snippet_context(program)
    return {
        key: render_to_string(template, context).strip()
        for key, template in SNIPPET_TEMPLATES.items()
    }
