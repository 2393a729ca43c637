"""SOAP partner ``login()`` at ``/services/Soap/u/<ver>``: simple-salesforce's default login.

Element order follows the partner WSDL (``LoginResult``, ``GetUserInfoResult``): the official
Pub/Sub Python sample reads ``result[3]`` (serverUrl), ``result[4]`` (sessionId) and
``result[6][8]`` (userInfo/organizationId) by position.

``Salesforce(username=, password=, security_token=)`` posts a SOAP envelope here and reads
``sessionId`` and ``serverUrl`` from the answer; failures are a SOAP fault (HTTP 500) whose
``sf:exceptionCode``/``sf:exceptionMessage`` it raises as ``SalesforceAuthenticationFailed``.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from ._oauth import OAuthError, TokenIssuer
from ._store import ORG_ID

__all__ = ["soap_login"]

_PARTNER = "{urn:partner.soap.sforce.com}"
CONTENT_TYPE = "text/xml;charset=UTF-8"

_RESPONSE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<soapenv:Body><loginResponse><result>"
    "<metadataServerUrl>{base}/services/Soap/m/{ver}/{org}</metadataServerUrl>"
    "<passwordExpired>false</passwordExpired>"
    "<sandbox>false</sandbox>"
    "<serverUrl>{base}/services/Soap/u/{ver}/{org}</serverUrl>"
    "<sessionId>{session}</sessionId>"
    "<userId>{user}</userId>"
    "<userInfo>"
    "<accessibilityMode>false</accessibilityMode>"
    "<chatterExternal>false</chatterExternal>"
    "<currencySymbol>$</currencySymbol>"
    "<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
    "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
    "<orgDefaultCurrencyLocale>en_US</orgDefaultCurrencyLocale>"
    "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
    "<orgHasPersonAccounts>false</orgHasPersonAccounts>"
    "<organizationId>{org}</organizationId>"
    "<organizationMultiCurrency>false</organizationMultiCurrency>"
    "<organizationName>Emulated Org</organizationName>"
    "<profileId>00e000000000001AAA</profileId>"
    '<roleId xsi:nil="true"/>'
    "<sessionSecondsValid>7200</sessionSecondsValid>"
    '<userDefaultCurrencyIsoCode xsi:nil="true"/>'
    "<userEmail>{username}</userEmail>"
    "<userFullName>{username}</userFullName>"
    "<userId>{user}</userId>"
    "<userLanguage>en_US</userLanguage>"
    "<userLocale>en_US</userLocale>"
    "<userName>{username}</userName>"
    "<userTimeZone>America/Los_Angeles</userTimeZone>"
    "<userType>Standard</userType>"
    "<userUiSkin>Theme3</userUiSkin>"
    "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
)

_FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:sf="urn:fault.partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<soapenv:Body><soapenv:Fault>"
    "<faultcode>sf:{code}</faultcode>"
    "<faultstring>{code}: {message}</faultstring>"
    '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
    "<sf:exceptionCode>{code}</sf:exceptionCode>"
    "<sf:exceptionMessage>{message}</sf:exceptionMessage>"
    "</sf:LoginFault></detail>"
    "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
)


def _fault(code: str, message: str) -> tuple[int, str]:
    return 500, _FAULT.format(code=code, message=escape(message))


def soap_login(tokens: TokenIssuer, body: bytes, version: str, base_url: str) -> tuple[int, str]:
    """(HTTP status, XML body) for one SOAP ``login`` call."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - test emulator; Python's expat limits expansion
    except ET.ParseError:
        return _fault(
            "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
        )
    username = root.findtext(f".//{_PARTNER}login/{_PARTNER}username") or ""
    password = root.findtext(f".//{_PARTNER}login/{_PARTNER}password") or ""
    try:
        issued = tokens.soap_login(username, password, base_url)
    except OAuthError as exc:
        return _fault(exc.body["error"], exc.body["error_description"])
    user_id = str(issued["id"]).rsplit("/", 1)[-1]
    text = _RESPONSE.format(
        base=escape(base_url),
        ver=escape(version),
        org=ORG_ID,
        session=escape(str(issued["access_token"])),
        user=user_id,
        username=escape(username),
    )
    return 200, text
