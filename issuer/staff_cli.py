"""``microcred issuer staff add|remove|list``: the registrar's staff accounts (issue 15, §5; :mod:`issuer.staff`).

Passwords are typed at a hidden prompt (twice), or read from standard input
with ``--password-stdin`` for scripts; never taken as an argument, which
other users of the machine could read in the process list.
"""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path

import click

from credentials.errors import MicrocredError
from issuer.identity import list_issuers, load_issuer
from issuer.staff import ROLES, AuditEntry, StaffBook
from ledger.config import data_dir

__all__ = ["staff", "audit_command_line"]

#: The role the audit log gives a change made with ``microcred issuer …`` on the issuer's machine.
OPERATOR_ROLE = "operator"


def audit_command_line(home_path: Path, action: str, subject: str, count: int, reason: str) -> None:
    """Add a status change made on the command line to the audit log the registrar page shows."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "unknown user"
    entry = AuditEntry(int(time.time()), f"command line ({user})", OPERATOR_ROLE, action, subject[:300], count,
                       " ".join(reason.split())[:500] or "none given (--reason)")
    StaffBook.of_home(home_path).record(entry)


def chosen_issuer(ctx: click.Context, root: Path) -> str:
    """The issuer the ``issuer`` group names (``--issuer`` / ``MICROCRED_ISSUER``), or the only one under ``root``.

    Otherwise a usage error that shows where ``--issuer`` goes: on the ``issuer`` group,
    before the subcommand (``microcred issuer --issuer NAME list``), or how to make one.
    """
    name = (ctx.obj or {}).get("issuer")  # the ``issuer`` group's object, which every subcommand inherits
    if name:
        return str(name)
    names = list_issuers(root)
    if len(names) == 1:
        return names[0]
    if not names:
        raise click.UsageError(f"no issuer yet under {root}: create one with "
                               "`microcred issuer init NAME --country CC --legal-name \"…\"`")
    group = ctx
    while group.parent is not None and group.info_name != "issuer":
        group = group.parent
    rest = ctx.command_path[len(group.command_path):].strip()
    raise click.UsageError(f"several issuers under {root} ({', '.join(names)}): say which, as in "
                           f"`{group.command_path} --issuer NAME {rest}`, or set MICROCRED_ISSUER=NAME")


def _book(ctx: click.Context) -> StaffBook:
    """The staff book of the issuer the ``issuer`` group names (``--issuer``), or of the only one."""
    root = data_dir()
    try:
        return StaffBook.of_home(load_issuer(root, chosen_issuer(ctx, root)).path)
    except MicrocredError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def staff() -> None:
    """Staff accounts of the registrar's pages (roles: viewer sees, registrar also revokes).

    While no account exists, the pages answer this machine only; once one
    exists, everyone signs in, and the pages may be served on a network.
    """


@staff.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="viewer: sees; registrar: also revokes.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.pass_context
def add(ctx: click.Context, username: str, role: str, password_stdin: bool) -> None:
    """Create a staff account USERNAME."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        member = _book(ctx).add(username, role, password, now=int(time.time()))
    except MicrocredError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"staff account {member.username} ({member.role}) created; "
               "the registrar's pages now ask everyone to sign in")


@staff.command("remove")
@click.argument("username")
@click.pass_context
def remove(ctx: click.Context, username: str) -> None:
    """Delete the staff account USERNAME (its sessions end with it)."""
    book = _book(ctx)
    try:
        book.remove(username)
    except MicrocredError as exc:
        raise click.ClickException(str(exc)) from None
    left = "" if book.has_accounts() else "; no account is left, so the pages answer this machine only"
    click.echo(f"staff account {username} removed{left}")


@staff.command("list")
@click.pass_context
def list_staff(ctx: click.Context) -> None:
    """List the staff accounts and their roles."""
    members = _book(ctx).members()
    if not members:
        click.echo("no staff accounts: the registrar's pages answer this machine only")
    for member in members:
        created = time.strftime("%Y-%m-%d", time.gmtime(member.created_at))
        click.echo(f"{member.username}  {member.role}  since {created}")
