"""The ``microcred`` command line (click).

Each part contributes its own command group from its own ``cli`` module; this
module only assembles them, so that importing the CLI does not import Flask or
web3 until a command that needs them runs.

A Ctrl-C (SIGINT) in any command that does not say more itself (the issuer's
commands say what they saved) is one line here, "interrupted: …; run the same
command again …", and exit 130 (``EXIT_INTERRUPTED``), not click's "Aborted!"
and exit 1; one stopped while starting (loading its module, web3 for the
ledger's commands, takes seconds) has changed nothing and says so.
"""

from __future__ import annotations

import importlib

import click

from infra.fault_hook import fault_point
from microcred import __version__

__all__ = ["EXIT_INTERRUPTED", "main"]

#: A command stopped by Ctrl-C (SIGINT): 128 + 2, as a shell reports it.
EXIT_INTERRUPTED = 130

# name -> (module, attribute, short help). Loaded lazily on first use.
_SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "devnet": ("ledger.cli", "devnet", "Start, stop or inspect the local Anvil chain."),
    "deploy": ("ledger.cli", "deploy", "Deploy the registry contracts (trust, status, issuance, did:mcr)."),
    "accredit": ("ledger.cli", "accredit", "Accredit, suspend or revoke an issuer or TAO on the TrustRegistry."),
    "did": ("ledger.did_cli", "did", "Create, rotate, revoke or show a did:mcr (keys on the ledger's DidRegistry)."),
    "issuer": ("issuer.cli", "issuer", "Issuer identity, batch issuing, revocation and the issuer service."),
    "wallet": ("wallet.cli", "wallet", "The learner's wallet web app (wallet serve)."),
    "verifier": ("verifier.cli", "verifier", "The employer's verifier service (verifier serve)."),
    "trust": ("verifier.trust_cli", "trust",
              "Export the TrustRegistry as an ETSI TS 119 602 list or EBSI accreditations; import a list."),
    "verify": ("verifier.cli", "verify",
               "Verify a presentation from a FILE or '-' (exit 0 verified, 1 not, 2 undecided)."),
    "demo": ("microcred.demo", "demo",
             "Run the whole system locally: chain, two issuers, wallet and verifier (--fresh starts over)."),
}


#: ``ctx.meta`` key: set once the command's module is loaded, so a Ctrl-C before it has changed nothing.
_LOADED = "microcred.command_loaded"

_INTERRUPTED_STARTING = "interrupted while starting: nothing was changed; run the same command again"
_INTERRUPTED = ("interrupted: what was saved or sent to the chain before the stop is kept; run the same command "
                "again to finish")


class _LazyGroup(click.Group):
    """The commands of :data:`_SUBCOMMANDS`, each imported when it runs; ``--help`` imports none of them."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # a command that knows more says it and exits 130 itself (SystemExit)
            click.echo(_INTERRUPTED if ctx.meta.get(_LOADED) else _INTERRUPTED_STARTING, err=True)
            ctx.exit(EXIT_INTERRUPTED)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _SUBCOMMANDS:
            return None
        module_name, attribute, _ = _SUBCOMMANDS[name]
        fault_point("command-loading")
        command = getattr(importlib.import_module(module_name), attribute)
        ctx.meta[_LOADED] = True
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, _SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="microcred")
def main() -> None:
    """microcred: issue, hold and verify European micro-credentials.

    State lives in ./var (override with MICROCRED_DATA_DIR); the ledger is a
    local Anvil chain unless MICROCRED_RPC_URL points elsewhere.
    """
