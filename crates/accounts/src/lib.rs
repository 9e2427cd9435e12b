//! Account policy: who may log in, how fast they may try, how long a
//! session lives, and what each role may do. No HTTP: the web crate keeps
//! cookies, extractors, the guard, the login and logout handlers and CSRF,
//! and calls this crate for every decision; the binary parses `[security]`
//! into its types and hashes passwords for `opsdeck user` with it.
//!
//! - Passwords are argon2id hashes in PHC strings; the store never sees a
//!   password, and a session id only as its SHA-256.
//! - Login failures slow a (username, address) pair with growing waits
//!   instead of locking an account, so an attacker cannot lock the owner
//!   out; attempts per address are rate limited too.
//! - What a role may do is configuration over [`Permission`]s: the
//!   [`Roles`] matrix, whose one lookup ([`Roles::allows`]) every request
//!   asks; the built-in roles are its defaults, documented as a table in
//!   [`permission`].
//!
//! # Layout
//! - [`password`]: the argon2id [`PasswordHasher`] and the rule for a new
//!   password ([`password::check_new_password`]). Its
//!   `insecure_fast_for_tests` exists only with the `testing` feature.
//! - [`login`]: one login attempt decided ([`Logins::attempt`]: throttled,
//!   refused and why, or accepted with a new session), with one password
//!   verification whether the username exists or not.
//! - [`limiter`]: the in-memory abuse limits ([`Limiter`]): login
//!   throttling per (username, address), attempts per address, ingest rates
//!   per token and address, live streams per session; and their settings
//!   [`LoginLimits`], [`RateLimits`].
//! - [`session`]: session ids and their stored hash, creating a session,
//!   when `last_seen` is written, and when a session has ended
//!   ([`SessionCutoffs`], shared by the request check and the hourly
//!   clean-up).
//! - [`permission`]: [`Permission`] and the built-in roles' permissions.
//! - [`roles`]: the configured role → permission matrix ([`Roles`]), with
//!   the playbook's built-in roles and brand scopes.
//! - [`config`]: the `[security]` settings as types ([`AuthConfig`],
//!   [`SecureCookies`]).

pub mod config;
pub mod limiter;
pub mod login;
pub mod password;
pub mod permission;
pub mod roles;
pub mod session;

pub use config::{AuthConfig, SecureCookies};
pub use limiter::{Limiter, LoginLimits, RateLimits, RetryAfter};
pub use login::{Attempt, LoginOutcome, Logins, Refusal};
pub use opsdeck_store::Role;
pub use password::PasswordHasher;
pub use permission::{builtin_allows, Permission};
pub use roles::{BrandScope, RoleGrant, Roles};
pub use session::SessionCutoffs;
