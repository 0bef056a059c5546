"""Label-signing keys: the one place that touches private keys.

``keystore`` keeps Ed25519 keys encrypted in ``keys/`` and signs and verifies with them;
``trustlist`` publishes the public keys (JWKS) and a trust list signed by the root key.
"""
