"""factory_boy factories for every model; tests build their data from these."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from clicks.models import Click
from conversions.models import Conversion, ConversionSource, ProductLine
from partners.models import Admission, Partner
from stores.models import Event, EventKind, Program, Store


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"Program {n}")
    currency = "SEK"
    landing_url = "https://www.store.example/"
    allowed_domains = factory.LazyFunction(lambda: ["store.example"])
    redirect_page_url = "https://www.store.example/retrack"
    attribution_days = 30
    validation_days = 45


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Event {n}")
    kind = EventKind.TRANSACTION
    percent = Decimal("8.000")
    fixed_amount = None


class LeadEventFactory(EventFactory):
    kind = EventKind.LEAD
    percent = None
    fixed_amount = 4000


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")


class AdmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Admission

    partner = factory.SubFactory(PartnerFactory)
    program = factory.SubFactory(ProgramFactory)


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    partner = factory.SubFactory(PartnerFactory)
    program = factory.SubFactory(ProgramFactory)
    ref = factory.Sequence(lambda n: f"{38315327 + n}")
    ip_address = "192.0.2.10"
    browser = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120"
    referer = "https://www.refunder.se/"
    # A few minutes ago, as a shopper's click before checkout: a conversion at once after
    # its click would be flagged `too_fast`.
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))


class ConversionFactory(factory.django.DjangoModelFactory):
    """A pending transaction on a click; its program, partner and event follow the click."""

    class Meta:
        model = Conversion

    click = factory.SubFactory(ClickFactory)
    program = factory.SelfAttribute("click.program")
    partner = factory.SelfAttribute("click.partner")
    event = factory.SubFactory(EventFactory, program=factory.SelfAttribute("..program"))
    kind = EventKind.TRANSACTION
    order_number = factory.Sequence(lambda n: f"order-{n}")
    order_sum = 10100
    vat_sum = 2000
    commission = 648
    currency = "SEK"
    source = ConversionSource.API
    confirmed = factory.LazyAttribute(lambda conversion: conversion.source == ConversionSource.API)


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLine

    conversion = factory.SubFactory(ConversionFactory)
    position = factory.Sequence(lambda n: n)
    event = factory.SelfAttribute("conversion.event")
    reference = "SKU-1"
    name = "Shoe"
    quantity = 1
    price = 10100
    vat = 2000
