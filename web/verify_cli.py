"""``tf verify certificate.json``: is a birth certificate authentic and unchanged? Offline.

The public key comes from ``--key`` (a PEM file, e.g. downloaded from the plant's
``/.well-known/tf-signing-key``), else from the plant's own key in its data directory or Redis.
Exit status 0: authentic; 1: not; 2: the file cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from config import ROOT
from web.signing import Signer, Verifier, load_private_pem


@click.command()
@click.argument("certificate", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--key", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="The plant's public key (PEM)."
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=ROOT / "data", envvar="TF_DATA_DIR", show_default=True
)
@click.option("--redis-url", default=None, envvar="TF_REDIS_URL", help="The workers' Redis (the key is kept there).")
def verify(certificate: Path, key: Path | None, data_dir: Path, redis_url: str | None) -> None:
    """Check a certificate's signature against the plant's public key."""
    try:
        document = json.loads(certificate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        click.echo(f"cannot read {certificate}: {e}", err=True)
        sys.exit(2)
    if key is not None:
        verifier = Verifier.from_pem(key.read_bytes())
    else:
        verifier = Signer(load_private_pem(data_dir, redis_url)).verifier
    authentic, reason = verifier.check(document)
    click.echo(reason)
    sys.exit(0 if authentic else 1)
