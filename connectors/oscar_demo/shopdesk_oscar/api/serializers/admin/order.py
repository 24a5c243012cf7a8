"""The admin order serializer with shipping events, and the body of an order change (PATCH)."""

from __future__ import annotations

from typing import Any

from oscar.core.loading import get_model
from oscarapi import settings as api_settings
from oscarapi.serializers.admin.order import AdminOrderSerializer as StockAdminOrderSerializer
from rest_framework import serializers

from shopdesk_oscar import statuses

ShippingEvent = get_model("order", "ShippingEvent")

ADDRESS_FIELDS = ("first_name", "last_name", "line1", "line2", "line4", "state", "postcode")
MAX_ADDRESS_CHARS = 255


class ShippingEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """One shipping event: its type's name, notes, date, and the lines it moved."""

    event_type = serializers.CharField(source="event_type.name")
    lines = serializers.SerializerMethodField()

    def get_lines(self, event: Any) -> list[dict[str, int]]:
        return [
            {"line": quantity.line_id, "quantity": quantity.quantity}
            for quantity in event.line_quantities.order_by("line_id")
        ]

    class Meta:
        model = ShippingEvent
        fields = ("id", "event_type", "notes", "date_created", "lines")


class AdminOrderSerializer(StockAdminOrderSerializer):  # type: ignore[misc]
    """oscarapi's admin order, plus its id, the customer's name (`owner` is only a link, which
    the API user may not open) and shipping events (oldest first)."""

    shipping_events = serializers.SerializerMethodField()
    customer_name = serializers.SerializerMethodField()

    def get_customer_name(self, order: Any) -> str:
        return str(order.user.get_full_name()) if order.user is not None else ""

    def get_shipping_events(self, order: Any) -> Any:
        events = order.shipping_events.select_related("event_type").order_by("date_created", "id")
        return ShippingEventSerializer(events, many=True).data

    class Meta(StockAdminOrderSerializer.Meta):  # type: ignore[misc]
        fields = (*api_settings.ORDER_FIELDS, "id", "customer_name", "shipping_events")


class AddressChangeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A new shipping address; `country` is the ISO 3166 alpha-2 code (US)."""

    first_name = serializers.CharField(max_length=MAX_ADDRESS_CHARS, allow_blank=True)
    last_name = serializers.CharField(max_length=MAX_ADDRESS_CHARS)
    line1 = serializers.CharField(max_length=MAX_ADDRESS_CHARS)
    line2 = serializers.CharField(max_length=MAX_ADDRESS_CHARS, allow_blank=True, default="")
    line4 = serializers.CharField(max_length=MAX_ADDRESS_CHARS)  # the city
    state = serializers.CharField(max_length=MAX_ADDRESS_CHARS)
    postcode = serializers.CharField(max_length=64)
    country = serializers.CharField(min_length=2, max_length=2, default="US")


class OrderChangeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What staff may change on an order through the API: its status and where it ships."""

    status = serializers.ChoiceField(choices=list(statuses.ORDER_STATUS_PIPELINE), required=False)
    shipping_address = AddressChangeSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("give a status or a shipping_address to change")
        return attrs
