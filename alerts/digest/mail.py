"""The digest by email: one multipart message (plain text and the HTML page) over SMTP.

Settings come only from the environment. The password is used for LOGIN and
nowhere else: it is not in `repr`, not in `describe()`, and is cut out of any
error text a server sends back.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from reputation.errors import ReputationError
from reputation.redaction import scrub

HOST = "REPUTATION_SMTP_HOST"
PORT = "REPUTATION_SMTP_PORT"
USER = "REPUTATION_SMTP_USER"
PASSWORD = "REPUTATION_SMTP_PASSWORD"  # the variable's name; the value is read from it only to log in
SENDER = "REPUTATION_SMTP_FROM"
RECIPIENTS = "REPUTATION_DIGEST_TO"
STARTTLS = "REPUTATION_SMTP_STARTTLS"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class MailError(ReputationError):
    """The email settings are incomplete or wrong, or the server refused the message."""


class MailNotConfigured(Exception):
    """No email settings at all: email is simply not in use."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = True
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        host = env.get(HOST, "").strip()
        recipients = tuple(part.strip() for part in env.get(RECIPIENTS, "").split(",") if part.strip())
        if not host and not recipients:
            raise MailNotConfigured(f"{HOST} and {RECIPIENTS} are not set")
        missing = [
            name for name, value in ((HOST, host), (RECIPIENTS, recipients), (SENDER, env.get(SENDER))) if not value
        ]
        if missing:
            raise MailError(f"email settings are incomplete: set {', '.join(missing)}")
        flag = env.get(STARTTLS, "true").strip().lower()
        if flag not in _TRUE | _FALSE:
            raise MailError(f"{STARTTLS}={flag!r}: use true or false")
        starttls = flag in _TRUE
        port_text = env.get(PORT, "").strip() or ("587" if starttls else "25")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise MailError(f"{PORT}={port_text!r} is not a port number")
        user, password = env.get(USER) or None, env.get(PASSWORD) or None
        if bool(user) != bool(password):
            raise MailError(f"set both {USER} and {PASSWORD}, or neither")
        if user and not starttls and not _loopback(host):
            raise MailError(f"refusing to send the SMTP password to {host} unencrypted: set {STARTTLS}=true")
        return cls(host, int(port_text), env[SENDER].strip(), recipients, starttls, user, password)

    def describe(self) -> str:
        security = "STARTTLS" if self.starttls else "no TLS"
        login = f", as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({security}{login})"

    def redact(self, text: str) -> str:
        return scrub(text, [self.password]) if self.password else text


def build_email(
    settings: SmtpSettings, subject: str, text: str, html: str, now: datetime | None = None
) -> EmailMessage:
    message = EmailMessage()
    try:
        message["Subject"] = subject
        message["From"] = settings.sender
        message["To"] = ", ".join(settings.recipients)
    except (ValueError, IndexError) as error:
        raise MailError(f"cannot address the email: {error}") from None
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_email(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    ssl_context: ssl.SSLContext | None = None,
    timeout_seconds: float = 30.0,
) -> list[str]:
    """Send; returns the recipients the server refused (the others got it). Raises MailError."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout_seconds) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if settings.user and settings.password:
                smtp.login(settings.user, settings.password)
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        detail = settings.redact(f"{type(error).__name__}: {error}")
        raise MailError(f"email via {settings.describe()} failed: {detail}") from None
    return sorted(refused)
