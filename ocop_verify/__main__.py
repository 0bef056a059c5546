"""``python -m ocop_verify``: the same as the ``ocop-verify`` command."""

from ocop_verify.cli import main

main()
