"""The privacy engine: consents, retention and purge, export, legal requests, canary, audits."""
