"""Offline verification of OCOP star labels: the reference verifier of the published format
(``docs/label-format.md``).

Pure Python and ``cryptography``: no Flask, no database, nothing of ``trace_service``, so
``ocop-verify`` starts fast on an inspector's laptop and a third party (the national
traceability portal, a market's app) may copy this package alone.

- ``label``: the label URL, its ``S`` number and the exact bytes the signature covers;
- ``trustlist``: the root-signed list of label and snapshot keys, with its expiry;
- ``snapshot``: the signed snapshot of what judging a stamp needs, its deltas, its builder;
- ``offline``: the verdict on a scanned text for a given date;
- ``cli``: the ``ocop-verify`` command (``photo`` decodes pictures with zxing-cpp).
"""

FORMAT_DOC = "docs/label-format.md"
