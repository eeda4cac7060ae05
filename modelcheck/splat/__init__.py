"""`modelcheck splat`: a lockdep report from a kernel log -> a `.fspec`
skeleton -> the model's verdict on it (see docs/splat.md)."""
