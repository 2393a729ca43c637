"""JSON endpoints the pages poll for live updates (same data as the pages, redacted)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from werkzeug.wrappers import Response

from paysync_core import UnknownFlowError

from ._data import dlq_data, flow_data, overview_data

__all__ = ["api"]

api = Blueprint("api", __name__, url_prefix="/api")


@api.route("/overview")
def overview() -> Response:
    return jsonify(overview_data(request.args.get("window", "1h")))


@api.route("/flows/<flow_id>")
def flow(flow_id: str) -> Response:
    try:
        return jsonify(flow_data(flow_id))
    except UnknownFlowError:
        abort(404)


@api.route("/dlq")
def dlq() -> Response:
    status = request.args.get("status", "open")
    if status not in ("open", "retried", "resolved", "all"):
        abort(400, description="status: must be open, retried, resolved or all")
    return jsonify({"entries": dlq_data(status, request.args.get("q", ""))})
