"""``client.protect``: the PayTrace Protect (hosted payment fields) client key."""

from __future__ import annotations

from paytrace_client._requester import CallKind, RequestOptions
from paytrace_client.models import ClientKey

from ._base import Resource

__all__ = ["Protect"]


class Protect(Resource):
    def client_key(self, *, options: RequestOptions | None = None) -> ClientKey:
        """A key for ``PTPayment.setup`` in the browser: ``payment_fields/token/create``
        (empty body; the answer is ``{"clientKey": ...}`` without a response code).

        A read: it moves no money, so it may be retried."""
        data = self._requester.call(
            "payment_fields/token/create", {}, kind=CallKind.READ, options=options
        )
        return ClientKey.model_validate(data)
