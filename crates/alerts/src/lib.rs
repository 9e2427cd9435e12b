//! Alerts: the right person hears about a problem within a minute, once.
//!
//! The pipeline, each stage testable alone:
//!
//! ```text
//! metrics ──conditions──▶ Observation ──evaluate_once──▶ Step ──AlertService──▶ store
//!                                                                   (episodes, history, outbox)
//!                                  outbox ──Sender::deliver_once──▶ Slack / Telegram / email / webhook
//! ```
//!
//! - [`rules`]: the default rules of METRICS.md, per-brand overrides,
//!   custom rules; [`hours`]: business hours in a brand's time zone;
//!   [`alert_rules`]: the rules the application runs, by id and name (what
//!   a silence may name, what the pages offer).
//! - [`observation`]: the seam — what a condition saw, with its numbers
//!   and why; [`conditions`]: the conditions over metrics
//!   ([`panel_conditions`]: those that read the dashboard panels;
//!   [`security_conditions`]: dashboard accounts under attack;
//!   [`funnel_conditions`]: storefront conversion and cart abandonment).
//!   [`privacy_conditions`]: privacy requests near their deadline;
//!   [`health_conditions`]: system health checks down or degraded).
//! - [`evaluate`]: the pure state machine (pending → firing →
//!   acknowledged → resolved, keep-firing, repeat, grouping, escalation,
//!   silences).
//! - [`episode`]: a stored episode read as the [`Alert`] it holds, by the
//!   evaluator, the actions and the web alike ([`Episode`]).
//! - [`service`]: the evaluator with its memory in the store, plus ack,
//!   resolve and silence; [`outbox`]: sending with retries and leases;
//!   [`leader`]: one evaluator among many processes; [`runner`]: the loop.
//! - [`notify`]: Slack, Telegram (and its Acknowledge button), SMTP,
//!   signed webhook; [`render`]: each channel's message ([`payloads`]: the
//!   Slack and Telegram messages as types, for whoever reads one back).
//! - [`testing`] (feature `testing`): fake Slack/Telegram/webhook/SMTP
//!   receivers for tests and `opsdeck demo`.

pub mod actions;
pub mod alert_rules;
pub mod conditions;
pub mod episode;
pub mod evaluate;
pub mod funnel_conditions;
pub mod health_conditions;
pub mod hours;
pub mod leader;
pub mod notify;
pub mod observation;
pub mod outbox;
pub mod panel_conditions;
pub mod payloads;
pub mod privacy_conditions;
pub mod render;
pub mod rules;
pub mod runner;
pub mod security_conditions;
pub mod service;
pub mod silence;
pub mod telegram_acks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use actions::{AckOutcome, Actor};
pub use alert_rules::AlertRules;
pub use episode::Episode;
pub use evaluate::{Alert, AlertState, Evaluator, NoticeKind, Notification, Phase, Step, Via};
pub use observation::{Figure, Observation};
pub use opsdeck_store::alerts::EpisodeState;
pub use rules::{Rule, RuleSet, Severity, Tier, Timing};
pub use service::{AlertError, AlertService, Clock};
pub use silence::{Matchers, Silence};
