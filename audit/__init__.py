"""The disclosure audit log.

Pure (no database, no Kafka; checked by tests/unit/test_layers.py):
chain (records and their hash chain), merkle (RFC 6962), checkpoint (Ed25519-signed tree
heads), segments and verify (whole-log verification), proofs (proof documents), errors;
ig (IG queries, case status, subject access report), anomalies, fhir (FHIR AuditEvents).

Adapters: schema and store (SQL tables, append-only triggers), parallel (verification in
several processes), prover (proofs from the store), publish (checkpoints to Kafka), wiring
(building the store from settings), cli (`hub audit …`), igstore (IG reports from the
stores), ig_cli (`hub ig …`).
"""
