"""HTML pages, the login form and operator actions (each audited with the user, atomically)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from paysync_core import (
    AuditTrail,
    AuditVerificationError,
    DeadLetterQueue,
    PaysyncError,
    UnknownFlowError,
)

from ._auth import authenticate, current_user, operator_required
from ._batches import read_batches
from ._config import AuthMode
from ._data import dlq_data, flow_data, overview_data, state
from ._present import audit_rows, dead_letter_view, flow_view, safe_json, safe_text, step_view
from ._reports import REPORT_SUFFIXES, list_reports

__all__ = ["blueprint"]

blueprint = Blueprint("dashboard", __name__)

_DLQ_STATUSES = ("open", "retried", "resolved", "all")


def _safe_next(target: str | None) -> str:
    # only same-site paths: an open redirect after login would help phishing
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.overview")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> tuple[str, int] | Response:
    config = state().config
    if config.auth_mode is AuthMode.PROXY:
        abort(404)
    error = None
    if request.method == "POST":
        user = authenticate(
            config, request.form.get("username", ""), request.form.get("password", "")
        )
        if user is not None:
            session.clear()  # a fresh session: no fixation
            session["user"] = user.name
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = "Unknown user or wrong password."
    return render_template("login.html", error=error), 401 if error else 200


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("dashboard.login"))


@blueprint.route("/")
def overview() -> str:
    return render_template("overview.html", data=overview_data(request.args.get("window", "1h")))


@blueprint.route("/flows/<flow_id>")
def flow(flow_id: str) -> str:
    try:
        data = flow_data(flow_id)
    except UnknownFlowError:
        abort(404)
    return render_template("flow.html", data=data)


@blueprint.route("/dlq")
def dlq() -> str:
    status = request.args.get("status", "open")
    if status not in _DLQ_STATUSES:
        abort(400, description="status: must be open, retried, resolved or all")
    query = request.args.get("q", "")
    return render_template(
        "dlq.html", entries=dlq_data(status, query), status=status, q=query, statuses=_DLQ_STATUSES
    )


@blueprint.route("/dlq/<entry_id>")
def dlq_entry(entry_id: str) -> str:
    st = state()
    try:
        detail = DeadLetterQueue(st.store).show(entry_id)
    except UnknownFlowError:
        abort(404)
    steps = [
        step_view(s, system=st.system_of(detail.flow.use_case, s.name), links=st.config.links)
        for s in detail.steps
    ]
    return render_template(
        "dlq_entry.html",
        entry=dead_letter_view(detail.entry),
        flow=flow_view(detail.flow),
        steps=steps,
    )


@blueprint.route("/dlq/<entry_id>/retry", methods=["POST"])
@operator_required
def dlq_retry(entry_id: str) -> Response:
    try:
        # the user goes into the queue's own dlq.retried record: one transaction, so the
        # action never commits without its attribution
        flow = DeadLetterQueue(state().store).retry(entry_id, actor=current_user().name)
    except UnknownFlowError:
        abort(404)
    except PaysyncError as exc:
        flash(safe_text(exc), "error")
        return redirect(url_for("dashboard.dlq_entry", entry_id=entry_id))
    flash(f"Flow {flow.flow_id} re-queued; it runs on the workers' next pass.", "ok")
    return redirect(url_for("dashboard.flow", flow_id=flow.flow_id))


@blueprint.route("/dlq/<entry_id>/resolve", methods=["POST"])
@operator_required
def dlq_resolve(entry_id: str) -> Response:
    note = request.form.get("note", "").strip()[:500] or None
    try:
        DeadLetterQueue(state().store).resolve(entry_id, note=note, actor=current_user().name)
    except UnknownFlowError:
        abort(404)
    except PaysyncError as exc:
        flash(safe_text(exc), "error")
        return redirect(url_for("dashboard.dlq_entry", entry_id=entry_id))
    flash(f"Entry {entry_id} resolved.", "ok")
    return redirect(url_for("dashboard.dlq_entry", entry_id=entry_id))


@blueprint.route("/reports")
def reports() -> str:
    folder = state().config.reports_dir
    days = list_reports(folder) if folder is not None else {}
    # the batch dimension: each JSON report's batches, linked to a page per batch
    batches = {
        r.path: found.totals
        for reports in days.values()
        for r in reports
        if folder is not None and (found := read_batches(folder, r.path)) is not None
    }
    return render_template(
        "reports.html", days=days, batches=batches, configured=folder is not None
    )


@blueprint.route("/report-batches/<path:name>")
def report_batch(name: str) -> str:
    folder = state().config.reports_dir
    batch = request.args.get("batch", "")
    found = read_batches(folder, name) if folder is not None else None
    totals = [t for t in found.totals if t.batch == batch] if found is not None else []
    if found is None or not totals:
        abort(404)
    return render_template(
        "report_batch.html",
        report=name,
        totals=totals[0],
        rows=found.rows.get(batch, ()),
    )


@blueprint.route("/reports/<path:name>")
def report_file(name: str) -> Response:
    folder = state().config.reports_dir
    if folder is None or not name.lower().endswith(REPORT_SUFFIXES):
        abort(404)
    # send_from_directory refuses paths escaping the folder
    response = send_from_directory(folder, name)
    # a report's own scripts must not run with the dashboard's origin and cookies
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


@blueprint.route("/audit")
def audit() -> str:
    st = state()
    problem = None
    report = None
    try:
        report = AuditTrail(st.store).verify()
    except AuditVerificationError as exc:
        problem = safe_text(exc)
    with st.store.transaction() as tx:
        rows = tx.execute(
            "SELECT seq, at, flow_id, kind, detail_json, hash FROM audit_log"
            " ORDER BY seq DESC LIMIT 50"
        )
    return render_template("audit.html", report=report, problem=problem, records=audit_rows(rows))


@blueprint.route("/use-cases")
def use_cases() -> str:
    return render_template("use_cases.html", use_cases=list(state().use_cases.values()))


@blueprint.route("/use-cases/<name>")
def use_case(name: str) -> str:
    page = state().use_cases.get(name)
    if page is None:
        abort(404)
    flows = [
        {
            "name": flow.use_case,
            "steps": [
                {
                    "index": i + 1,
                    "name": s.name,
                    "system": s.system or "-",
                    "safe_to_retry": s.safe_to_retry,
                    "performs": _doc(s.perform),
                    "looks_up": _doc(s.lookup),
                }
                for i, s in enumerate(flow.steps)
            ],
        }
        for flow in page.flows
    ]
    rules = [
        {
            "key": r.key,
            "value": safe_json(r.value),
            "default": safe_json(r.default),
            "description": r.description,
            "configured": r.configured,
        }
        for r in page.rules
    ]
    return render_template("use_case.html", page=page, flows=flows, rules=rules)


def _doc(function: object) -> str:
    """What a step callable does: its docstring's first line, else its name in words.

    ``OrderToCash._find_charge`` reads "find charge": the name the use case gave the lookup
    that correlates an earlier, possibly lost, call.
    """
    doc = (getattr(function, "__doc__", None) or "").strip()
    if doc and not _inherited_doc(function):
        return safe_text(doc.splitlines()[0])
    name = str(getattr(function, "__name__", "") or "")
    return safe_text(name.strip("_").replace("_", " "))


def _inherited_doc(function: object) -> bool:
    # a callable object's or partial's docstring describes its class, not this step
    return not callable(function) or getattr(function, "__name__", None) is None
