"""``levante models``: the model ids a server offers."""

from __future__ import annotations

import argparse

from ._common import EXIT_OK, target


def run(args: argparse.Namespace) -> int:
    """Run ``levante models``."""
    with target(args) as where, where.client(args.retries) as client:
        listing = client.models.list()
    if args.json:
        print(listing.model_dump_json(by_alias=True, exclude_unset=True))
    else:
        for card in listing.data or []:
            print(card.id)
    return EXIT_OK
