"""ERP integration over REST (``/erpintegrations``): FBDI imports and ESS jobs.

An FBDI import uploads a zip of header-less CSV files (``importBulkData``), which Fusion loads
through an ESS job; the job is then polled with the ``ESSJobStatusRF`` finder and its log and
output are downloaded with ``ESSJobExecutionDetailsRF``.
"""

from __future__ import annotations

import base64
import csv
import io
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import _gl_interface as columns
from ._errors import FusionInputError, FusionJobTimeoutError
from ._http import FusionHTTP
from ._query import Query, finder

__all__ = [
    "TERMINAL_JOB_STATES",
    "ErpIntegrations",
    "GlInterfaceLine",
    "build_fbdi_zip",
    "parameter_list",
]

CellValue = str | int | Decimal | date | None
TERMINAL_JOB_STATES = frozenset({"SUCCEEDED", "ERROR", "WARNING", "CANCELLED", "EXPIRED"})
JOURNAL_IMPORT_JOB = (
    "/oracle/apps/ess/financials/generalLedger/programs/common,JournalImportLauncher"
)
GL_IMPORT_ACCOUNT = "fin$/generalLedger$/import$"


def _cell(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y/%m/%d")
    return str(value)


def build_fbdi_zip(files: Mapping[str, Sequence[Sequence[CellValue]]]) -> bytes:
    """A zip with one header-less CSV per entry (``{"GlInterface.csv": rows}``).

    Dates are written ``YYYY/MM/DD`` as the FBDI templates expect; ``None`` is an empty cell.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in files.items():
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            for row in rows:
                writer.writerow([_cell(v) for v in row])
            archive.writestr(name, text.getvalue())
    return buffer.getvalue()


def parameter_list(values: Sequence[CellValue]) -> str:
    """ESS positional arguments: comma-separated, ``#NULL`` for None, quoted when needed."""
    out: list[str] = []
    for value in values:
        if value is None:
            out.append("#NULL")
            continue
        text = _cell(value)
        if "," in text or '"' in text:
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


@dataclass(frozen=True)
class GlInterfaceLine:
    """One row of ``GlInterface.csv`` (GL journal import), laid out as in :mod:`._gl_interface`.

    Filled: the header columns, SEGMENT1-30, the entered and accounted amounts, REFERENCE1-10
    (then REFERENCE21-30) from ``references``, the conversion columns and GROUP_ID; the rest is
    left empty.

    A journal entered in a currency other than the ledger's carries its conversion:
    ``accounted_dr``/``accounted_cr`` (ACCOUNTED_DR/CR, the ledger-currency amounts) and
    ``conversion_type``/``conversion_date``/``conversion_rate`` (USER_CURRENCY_CONVERSION_TYPE,
    CURRENCY_CONVERSION_DATE, CURRENCY_CONVERSION_RATE).
    """

    ledger_id: int
    accounting_date: date
    source: str
    category: str
    currency: str
    segments: Sequence[str]
    entered_dr: Decimal | None = None
    entered_cr: Decimal | None = None
    created: date | None = None
    group_id: int | None = None
    actual_flag: str = "A"
    references: Sequence[str] = field(default_factory=tuple[str, ...])
    accounted_dr: Decimal | None = None
    accounted_cr: Decimal | None = None
    conversion_type: str | None = None
    conversion_date: date | None = None
    conversion_rate: Decimal | None = None

    def row(self) -> list[CellValue]:
        if len(self.segments) > 30:
            raise FusionInputError("at most 30 segments")
        if (self.entered_dr is None) == (self.entered_cr is None):
            raise FusionInputError("exactly one of entered_dr and entered_cr is required")
        segments: list[CellValue] = [*self.segments, *([None] * (30 - len(self.segments)))]
        row: list[CellValue] = [
            "NEW",
            self.ledger_id,
            self.accounting_date,
            self.source,
            self.category,
            self.currency,
            self.created or self.accounting_date,
            self.actual_flag,
            *segments,
            self.entered_dr,
            self.entered_cr,
            self.accounted_dr,
            self.accounted_cr,
            *self.references,
        ]
        if len(row) > columns.STAT_AMOUNT:
            raise FusionInputError("at most 20 references (REFERENCE1-10 and REFERENCE21-30)")
        row += [None] * (columns.GROUP_ID + 1 - len(row))
        if self.conversion_type is not None:
            if self.conversion_date is None:
                raise FusionInputError("conversion_date is required with conversion_type")
            if self.conversion_type == "User" and self.conversion_rate is None:
                raise FusionInputError("conversion_rate is required with conversion_type User")
            row[columns.CONVERSION_TYPE] = self.conversion_type
            row[columns.CONVERSION_DATE] = self.conversion_date
            row[columns.CONVERSION_RATE] = self.conversion_rate
        row[columns.GROUP_ID] = self.group_id
        return row


class ErpIntegrations:
    """``/erpintegrations``: importBulkData, ESS status polling and output download."""

    path = "erpintegrations"

    def __init__(self, http: FusionHTTP) -> None:
        self._http = http

    def import_bulk_data(
        self,
        *,
        document: bytes,
        file_name: str,
        document_account: str,
        job_name: str,
        parameter_list: str,
        content_type: str = "zip",
        notification_code: str = "10",
        callback_url: str = "#NULL",
        job_options: str | None = None,
    ) -> str:
        """Upload an FBDI zip and start its import; returns the ESS request id (``ReqstId``)."""
        body: dict[str, str] = {
            "OperationName": "importBulkData",
            "DocumentContent": base64.b64encode(document).decode("ascii"),
            "ContentType": content_type,
            "FileName": file_name,
            "DocumentAccount": document_account,
            "JobName": job_name,
            "ParameterList": parameter_list,
            "CallbackURL": callback_url,
            "NotificationCode": notification_code,
        }
        if job_options is not None:
            body["JobOptions"] = job_options
        data = self._http.json("POST", self.path, body=body).data
        return str(data["ReqstId"])

    def import_journals(
        self, lines: Sequence[GlInterfaceLine], *, source: str, ledger_id: int, group_id: int
    ) -> str:
        """Journal Import of ``lines`` through ``GlInterface.csv``; returns the request id."""
        document = build_fbdi_zip({"GlInterface.csv": [line.row() for line in lines]})
        params = parameter_list([None, source, ledger_id, group_id, "N", "N", "N"])
        return self.import_bulk_data(
            document=document,
            file_name=f"GlInterface_{group_id}.zip",
            document_account=GL_IMPORT_ACCOUNT,
            job_name=JOURNAL_IMPORT_JOB,
            parameter_list=params,
        )

    def job_status(self, request_id: str) -> str:
        """``RequestStatus`` from the ``ESSJobStatusRF`` finder."""
        query = Query(finder=finder("ESSJobStatusRF", requestId=request_id))
        page = self._http.page(self.path, query)
        if not page.items:
            raise FusionInputError(f"no ESS request {request_id}")
        return str(page.items[0].get("RequestStatus"))

    def wait_for_job(
        self,
        request_id: str,
        *,
        timeout: float = 600.0,
        first_poll: float = 2.0,
        max_poll: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> str:
        """Poll until a terminal state (doubling the interval up to ``max_poll``)."""
        start = clock()
        interval = first_poll
        status: str | None = None
        while True:
            status = self.job_status(request_id)
            if status in TERMINAL_JOB_STATES:
                return status
            waited = clock() - start
            if waited + interval > timeout:
                raise FusionJobTimeoutError(request_id, status, waited)
            sleep(interval)
            interval = min(interval * 2, max_poll)

    def download_job_output(self, request_id: str, file_type: str = "ALL") -> bytes:
        """The job's log/output zip from ``ESSJobExecutionDetailsRF``."""
        name = finder("ESSJobExecutionDetailsRF", requestId=request_id, fileType=file_type)
        page = self._http.page(self.path, Query(finder=name))
        if not page.items or not page.items[0].get("DocumentContent"):
            raise FusionInputError(f"no output for ESS request {request_id}")
        return base64.b64decode(str(page.items[0]["DocumentContent"]))
