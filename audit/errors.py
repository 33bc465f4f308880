"""The audit package's errors, one tree:

    AuditError            the audit log cannot be written, read or trusted (the API answers 503)
    ├── ProofError        a proof cannot be made or read: bad sizes, index or document
    └── CheckpointError   a checkpoint key or document cannot be used

A record or checkpoint that fails verification is not an exception: verification returns a
result naming the first bad one, because finding it is the job, not a failure of the tool.
"""

from __future__ import annotations


class AuditError(Exception):
    """The audit log cannot be written or does not verify; the message says where."""


class ProofError(AuditError):
    """A proof cannot be made or read; the message says which sizes, index or field is wrong."""


class CheckpointError(AuditError):
    """A checkpoint key or document cannot be used; the message says what to fix."""
