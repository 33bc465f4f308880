"""The disclosure audit log.

Pure (no database, no Kafka; the "pure-core" import contract in pyproject.toml checks it):
chain (records and their hash chain), merkle (RFC 6962), checkpoint (Ed25519-signed tree
heads), segments and verify (whole-log verification), proofs (proof documents), errors;
ig (IG queries, case status, subject access report), anomalies, fhir (FHIR AuditEvents).

Adapters: schema and store (SQL tables, append-only triggers), reading (records streamed out
in seq order), parallel (verification in several processes), prover (proofs from the store),
publish (checkpoints to Kafka), igstore (IG reports from the stores).

audit imports nothing of hub: hub depends on audit. What needs the hub's settings, key files
or event store lives in hub: hub.adapters.audit_wiring (the store built from settings, the
signing key), hub.entrypoints.audit_cli (`hub audit …`) and hub.entrypoints.ig_cli
(`hub ig …`); igstore reads case events through its own Protocol, which hub's event store
satisfies.
"""
