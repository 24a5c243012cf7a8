"""The admin order views: find by `?number=`, and PATCH an order's status or shipping address."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from oscar.apps.order.exceptions import InvalidOrderStatus
from oscar.core.loading import get_model
from oscarapi.views.admin.order import OrderAdminDetail as StockOrderAdminDetail
from oscarapi.views.admin.order import OrderAdminList as StockOrderAdminList
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from shopdesk_oscar import statuses
from shopdesk_oscar.api.serializers.admin.order import AdminOrderSerializer, OrderChangeSerializer

Country = get_model("address", "Country")
NUMBER_PARAMETER = "number"


class Conflict(APIException):
    """The change is well formed, but the order's state does not allow it now."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class OrderAdminList(StockOrderAdminList):  # type: ignore[misc]
    serializer_class = AdminOrderSerializer

    def get_queryset(self) -> Any:
        orders = super().get_queryset().order_by("number")
        number = self.request.query_params.get(NUMBER_PARAMETER)
        return orders if number is None else orders.filter(number=number.strip())


class OrderAdminDetail(StockOrderAdminDetail):  # type: ignore[misc]
    serializer_class = AdminOrderSerializer
    http_method_names = ("get", "patch", "delete", "head", "options")

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.get_object()
        change = OrderChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        with transaction.atomic():
            if "shipping_address" in change.validated_data:
                _change_address(order, change.validated_data["shipping_address"])
            if "status" in change.validated_data:
                try:
                    order.set_status(change.validated_data["status"])
                except InvalidOrderStatus as error:
                    raise Conflict(str(error)) from None
        order.refresh_from_db()
        return Response(self.get_serializer(order).data)


def _change_address(order: Any, fields: dict[str, str]) -> None:
    if order.status not in statuses.NOT_SHIPPED:
        raise Conflict(
            f"order {order.number} is {order.status}: its shipping address can no longer change"
        )
    address = order.shipping_address
    if address is None:
        raise Conflict(f"order {order.number} has no shipping address to change")
    code = fields["country"].upper()
    country = Country.objects.filter(iso_3166_1_a2=code).first()
    if country is None:
        raise Conflict(f"this shop does not ship to {code}")
    for name, value in fields.items():
        if name != "country":
            setattr(address, name, value)
    address.country = country
    address.save()
