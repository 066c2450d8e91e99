"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the tests."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Mailbox:
    """What the server accepted, and the logins it saw."""

    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    # aiosmtpd's controller connects to its own port to check it is up, so it needs a
    # concrete port rather than 0; ask the OS for one that is free now
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def smtp_server(user: str | None = None, password: str | None = None
                ) -> Iterator[tuple[Mailbox, int]]:
    """Run an SMTP server; with ``user``/``password`` it requires that login (AUTH PLAIN/LOGIN).

    Authentication over plain text is allowed here because the server only listens on the
    loopback interface of the test machine.
    """
    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        if ok:
            mailbox.logins.append(user)
        return AuthResult(success=ok)

    kwargs = {}
    if user is not None:
        kwargs = {"authenticator": authenticate, "auth_required": True,
                  "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()
