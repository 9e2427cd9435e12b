//! SQLite implementation (helper in progress).
