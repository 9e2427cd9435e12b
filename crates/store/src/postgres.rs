//! PostgreSQL implementation (helper in progress).
