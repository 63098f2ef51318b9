"""A person's archive cart (rows, not session state). Priced by `orders.cart.pricing`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models

from geopera_web.accounts.models import Organization

from ..catalog.models import Capture


class Cart(models.Model):
    """A person's archive cart inside one org: survives reloads and sign-outs (it is a row, not a
    session). `aoi` is the area last drawn or uploaded on the archive map; items clipped to the AOI
    keep a copy of it, so a later AOI change never silently re-prices an item that was not clipped."""

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    split_by_date = models.BooleanField(default=False)
    aoi = models.MultiPolygonField(srid=4326, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="orders_cart_org_user_unique")]

    def __str__(self) -> str:
        return f"Cart of {self.user} in {self.org}"


class CartItem(models.Model):
    """One capture in a cart. With `clip_geometry`, the billed geometry is footprint ∩ that AOI."""

    id = models.BigAutoField(primary_key=True)
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="+")
    clip_geometry = models.MultiPolygonField(srid=4326, null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "capture"], name="orders_cartitem_capture_unique")
        ]

    def __str__(self) -> str:
        return f"{self.capture} in {self.cart}"

    @property
    def is_clipped(self) -> bool:
        return self.clip_geometry is not None
