"""A local SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives.

It speaks real SMTP: EHLO, optional STARTTLS (with a certificate the test
trusts), AUTH LOGIN/PLAIN checked against `users` and only over TLS, and
550 for the addresses in `refuse`.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    over_tls: bool
    login: str | None


@dataclass
class SmtpReceiver:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    failed_logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, receiver: SmtpReceiver, refuse: set[str]) -> None:
        self.receiver = receiver
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.receiver.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, session.ssl is not None, login)
        )
        return "250 Message accepted for delivery"


def _authenticator(receiver: SmtpReceiver, users: dict[str, str]) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if users.get(login) == password:
                receiver.logins.append(login)
                return AuthResult(success=True, auth_data=login)
            receiver.failed_logins.append(login)
        return AuthResult(success=False, handled=False)

    return check


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_receiver(
    *,
    tls_context: ssl.SSLContext | None = None,
    users: dict[str, str] | None = None,
    refuse: set[str] | None = None,
) -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(port=_free_port())
    options: dict[str, Any] = {}
    if tls_context is not None:
        options.update(tls_context=tls_context, require_starttls=True)
    if users is not None:
        options.update(authenticator=_authenticator(receiver, users), auth_required=True, auth_require_tls=True)
    controller = Controller(_Handler(receiver, refuse or set()), hostname=receiver.host, port=receiver.port, **options)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()
