"""One Stripe resource as one account sees it: its list pages, its objects by id, its events,
and the lists Stripe embeds truncated, completed.

Every request asks for 100 objects, Stripe's largest page (https://docs.stripe.com/api/pagination),
so a record costs the fewest round trips. With a Connect account the requests carry its
`Stripe-Account` header (https://docs.stripe.com/connect/authentication).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tap_stripe_xdm.api import ListPage, RequestCounts, StripeAPI
from tap_stripe_xdm.errors import StripeRequestError
from tap_stripe_xdm.event_windows import event_params
from tap_stripe_xdm.resources import EmbeddedList, Resource
from tap_stripe_xdm.windows import CreatedWindow, CursorLostError

PAGE_LIMIT = 100
EVENTS_PATH = "/v1/events"


class ResourceEndpoints:
    """The requests the tap makes for `resource` in `account` (None: the key's own account)."""

    def __init__(self, api: StripeAPI, resource: Resource, account: str | None) -> None:
        self._api = api
        self._resource = resource
        self._account = account
        self._list_params: dict[str, str | int] = {"limit": PAGE_LIMIT, **resource.list_params}
        self.counts = RequestCounts()
        """This resource's requests in this account (streams and accounts are read at once, so
        the run's counts do not tell one partition's)."""

    def page(self, window: CreatedWindow, starting_after: str | None) -> ListPage:
        """One page of objects created inside `window`, embedded lists completed.

        Runs on the window reader's worker threads. A cursor whose object was deleted between
        two pages raises CursorLostError, so the reader can continue without it.
        """
        params = {**self._list_params, **window.params()}
        if starting_after:
            params["starting_after"] = starting_after
        try:
            page = self._api.list_page(
                self._resource.path, params, account=self._account, counts=self.counts
            )
        except StripeRequestError as error:
            if starting_after and error.is_missing_cursor:
                raise CursorLostError(starting_after) from error
            raise
        self.complete(page.data)
        return page

    def retrieve(self, object_id: str) -> dict[str, Any] | None:
        """The object's current state in the pinned version, completed; None when deleted
        (404, or the `deleted: true` stub customers and prices leave:
        https://docs.stripe.com/api/customers/delete)."""
        path = f"{self._resource.path}/{quote(object_id, safe='')}"  # the id comes from events
        try:
            obj = self._api.retrieve(path, account=self._account, counts=self.counts)
        except StripeRequestError as error:
            if error.status == 404:
                return None
            raise
        if obj.get("deleted") is True:
            return None
        self.complete([obj])
        return obj

    def events_page(self, start: int, end: int, starting_after: str | None) -> ListPage:
        """One page of this resource's events created in [start, end)."""
        params = event_params(self._resource.event_types, start, end, starting_after, PAGE_LIMIT)
        return self._api.list_page(EVENTS_PATH, params, account=self._account, counts=self.counts)

    def complete(self, objects: list[dict[str, Any]]) -> None:
        """Replace every truncated embedded list (Stripe embeds 10 entries) with the whole list.

        The list is read from its start rather than continued after the last embedded entry:
        up to 100 entries it is the same single request, and it does not depend on the embedded
        order matching the endpoint's order.
        """
        for embedded in self._resource.embedded_lists:
            for obj in objects:
                listed = obj.get(embedded.field)
                if isinstance(listed, dict) and listed.get("has_more"):
                    whole = self._whole_list(embedded, obj["id"])
                    seen = {entry["id"] for entry in whole}
                    rest = [entry for entry in listed.get("data") or [] if entry["id"] not in seen]
                    listed["data"] = whole + rest
                    listed["has_more"] = False

    def _whole_list(self, embedded: EmbeddedList, parent_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, str | int] = {embedded.parent_param: parent_id, "limit": PAGE_LIMIT}
        while True:
            page = self._api.list_page(
                embedded.path, params, account=self._account, counts=self.counts
            )
            found.extend(page.data)
            if not (page.has_more and page.data):
                return found
            params["starting_after"] = page.data[-1]["id"]
