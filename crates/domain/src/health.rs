//! System health checks (METRICS.md, "System health checks"): what a
//! check is, what one result of it says, and the one rule that turns a
//! check's recent results into its state.
//!
//! Four kinds, each fed differently:
//! - **HTTP**: opsdeck probes a URL at an interval (a payment gateway's
//!   status endpoint every 5 minutes); the expected status (and body
//!   text, when configured) within the timeout is good, slower than
//!   `slow_after` is degraded, anything else a failure.
//! - **Heartbeat**: a worker must send a beat within each `period`; a
//!   missed period is a failure, late is degraded.
//! - **Threshold**: a number pushed through the ingest API (a queue
//!   length); above `degraded_above` is degraded, above `down_above` a
//!   failure.
//! - **Success ratio**: the share of good results among the last `last`
//!   calls a platform reports (its pushed `HealthCheck` records of one
//!   dependency: courier API calls); below `degraded_below` degraded,
//!   below `down_below` down.
//!
//! [`evaluate`] is pure: (check, results, now) → [`Evaluation`]. The
//! worker that probes and records state changes, the page and the alert
//! all read the state this function gives, so they agree.

use crate::Timestamp;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// No result yet.
    Pending,
    Up,
    /// Slow, partly failing, or failing fewer times than "down" needs.
    Degraded,
    Down,
    /// In a maintenance window or switched to maintenance: not judged.
    Maintenance,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Pending => "pending",
            HealthState::Up => "up",
            HealthState::Degraded => "degraded",
            HealthState::Down => "down",
            HealthState::Maintenance => "maintenance",
        }
    }

    /// The state named `text` (as [`HealthState::as_str`] writes it).
    pub fn parse(text: &str) -> Option<HealthState> {
        [
            HealthState::Pending,
            HealthState::Up,
            HealthState::Degraded,
            HealthState::Down,
            HealthState::Maintenance,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// "Down after `failures` failures within `within`": fewer failures in the
/// window leave a failing check degraded, so one lost packet pages no one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownAfter {
    pub failures: u32,
    pub within: SignedDuration,
}

/// When a check is not judged: switched on by hand (`on`), or within one
/// of the windows `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    pub on: bool,
    pub windows: Vec<(Timestamp, Timestamp)>,
}

impl Maintenance {
    /// Whether the check is in maintenance at `now`, and until when (for a
    /// window).
    pub fn at(&self, now: Timestamp) -> Option<Option<Timestamp>> {
        if self.on {
            return Some(None);
        }
        self.windows
            .iter()
            .find(|(start, end)| *start <= now && now < *end)
            .map(|(_, end)| Some(*end))
    }
}

/// How an HTTP check probes its URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpProbe {
    /// An `http` or `https` URL (validated where the config is read).
    pub url: String,
    pub interval: SignedDuration,
    pub timeout: SignedDuration,
    pub expect_status: u16,
    /// Text the body must contain, when set.
    pub body_contains: Option<String>,
    /// A good answer slower than this makes the check degraded.
    pub slow_after: SignedDuration,
}

/// What a check watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckKind {
    Http(HttpProbe),
    Heartbeat {
        period: SignedDuration,
    },
    Threshold {
        degraded_above: f64,
        down_above: f64,
    },
    SuccessRatio {
        /// The `dependency` of the pushed `HealthCheck` records counted.
        dependency: String,
        last: u32,
        degraded_below: f64,
        down_below: f64,
    },
}

impl CheckKind {
    pub fn label(&self) -> &'static str {
        match self {
            CheckKind::Http(_) => "http",
            CheckKind::Heartbeat { .. } => "heartbeat",
            CheckKind::Threshold { .. } => "threshold",
            CheckKind::SuccessRatio { .. } => "success_ratio",
        }
    }
}

/// One configured check (`[health_checks.NAME]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckSpec {
    pub name: String,
    pub kind: CheckKind,
    pub down_after: DownAfter,
    pub maintenance: Maintenance,
}

/// What one result said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// An HTTP probe's answer: `status` is `None` when none came (timeout,
    /// refused connection; `error` says which).
    Probe {
        status: Option<u16>,
        latency_ms: u64,
        body_matched: bool,
        error: Option<String>,
    },
    Beat,
    Value {
        value: f64,
    },
    Call {
        ok: bool,
    },
}

/// One result of a check, at the instant it was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub at: Timestamp,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// How one result reads against its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Good,
    Degraded,
    Failed,
}

/// A check's state at an instant, and why in plain words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub state: HealthState,
    pub reason: String,
}

/// How `result` reads against `kind` (a result of another kind is a
/// failure: it cannot say the check is fine).
pub fn grade(kind: &CheckKind, result: &CheckResult) -> Grade {
    match (kind, &result.outcome) {
        (
            CheckKind::Http(probe),
            Outcome::Probe {
                status,
                latency_ms,
                body_matched,
                ..
            },
        ) => {
            if *status != Some(probe.expect_status) || !body_matched {
                Grade::Failed
            } else if i128::from(*latency_ms) > probe.slow_after.as_millis() {
                Grade::Degraded
            } else {
                Grade::Good
            }
        }
        (CheckKind::Heartbeat { .. }, Outcome::Beat) => Grade::Good,
        (
            CheckKind::Threshold {
                degraded_above,
                down_above,
            },
            Outcome::Value { value },
        ) => {
            if value > down_above {
                Grade::Failed
            } else if value > degraded_above {
                Grade::Degraded
            } else {
                Grade::Good
            }
        }
        (CheckKind::SuccessRatio { .. }, Outcome::Call { ok: true }) => Grade::Good,
        _ => Grade::Failed,
    }
}

/// The state of `check` at `now` from its `results` (any order; results
/// after `now` are not seen yet).
pub fn evaluate(check: &CheckSpec, results: &[CheckResult], now: Timestamp) -> Evaluation {
    if let Some(until) = check.maintenance.at(now) {
        return Evaluation {
            state: HealthState::Maintenance,
            reason: match until {
                Some(end) => format!("in a maintenance window until {end}"),
                None => "switched to maintenance".to_string(),
            },
        };
    }
    let mut seen: Vec<&CheckResult> = results.iter().filter(|r| r.at <= now).collect();
    seen.sort_by_key(|r| std::cmp::Reverse(r.at));
    let Some(latest) = seen.first() else {
        return Evaluation {
            state: HealthState::Pending,
            reason: "no result yet".to_string(),
        };
    };
    match &check.kind {
        CheckKind::Heartbeat { period } => heartbeat(check, *period, latest.at, now),
        CheckKind::SuccessRatio {
            last,
            degraded_below,
            down_below,
            ..
        } => {
            let counted = seen.len().min(*last as usize);
            let good = seen[..counted]
                .iter()
                .filter(|r| grade(&check.kind, r) == Grade::Good)
                .count();
            let ratio = good as f64 / counted as f64;
            let state = if ratio < *down_below {
                HealthState::Down
            } else if ratio < *degraded_below {
                HealthState::Degraded
            } else {
                HealthState::Up
            };
            Evaluation {
                state,
                reason: format!(
                    "{good} of the last {counted} calls succeeded ({:.0} %; degraded below {:.0} %, down below {:.0} %)",
                    ratio * 100.0,
                    degraded_below * 100.0,
                    down_below * 100.0
                ),
            }
        }
        CheckKind::Http(_) | CheckKind::Threshold { .. } => match grade(&check.kind, latest) {
            Grade::Good => Evaluation {
                state: HealthState::Up,
                reason: format!("last result good: {}", describe(latest)),
            },
            Grade::Degraded => Evaluation {
                state: HealthState::Degraded,
                reason: format!("last result degraded: {}", describe(latest)),
            },
            Grade::Failed => {
                let since = now - check.down_after.within;
                let failures = seen
                    .iter()
                    .take_while(|r| r.at > since)
                    .filter(|r| grade(&check.kind, r) == Grade::Failed)
                    .count();
                let needed = check.down_after.failures as usize;
                let window = crate::sla::human_duration(check.down_after.within);
                Evaluation {
                    state: if failures >= needed {
                        HealthState::Down
                    } else {
                        HealthState::Degraded
                    },
                    reason: format!(
                        "{failures} failures in the last {window} (down at {needed}); last: {}",
                        describe(latest)
                    ),
                }
            }
        },
    }
}

/// A heartbeat is up within its period, degraded when late, and down once
/// `down_after.failures` periods have gone without a beat.
fn heartbeat(
    check: &CheckSpec,
    period: SignedDuration,
    last_beat: Timestamp,
    now: Timestamp,
) -> Evaluation {
    let quiet = now.duration_since(last_beat);
    let missed = if period.is_positive() {
        quiet.as_millis() / period.as_millis()
    } else {
        0
    };
    let quiet_text = crate::sla::human_duration(quiet);
    let period_text = crate::sla::human_duration(period);
    let state = if missed == 0 {
        HealthState::Up
    } else if missed >= i128::from(check.down_after.failures) {
        HealthState::Down
    } else {
        HealthState::Degraded
    };
    Evaluation {
        state,
        reason: format!(
            "last heartbeat {quiet_text} ago (expected every {period_text}; down after {} missed)",
            check.down_after.failures
        ),
    }
}

/// One result in words: "HTTP 200 in 120 ms", "value 42", "beat".
pub fn describe(result: &CheckResult) -> String {
    match &result.outcome {
        Outcome::Probe {
            status,
            latency_ms,
            body_matched,
            error,
        } => match (status, error) {
            (Some(s), _) if !body_matched => {
                format!("HTTP {s} in {latency_ms} ms, expected text missing")
            }
            (Some(s), _) => format!("HTTP {s} in {latency_ms} ms"),
            (None, Some(e)) => format!("no answer after {latency_ms} ms: {e}"),
            (None, None) => format!("no answer after {latency_ms} ms"),
        },
        Outcome::Beat => "heartbeat".to_string(),
        Outcome::Value { value } => format!("value {value}"),
        Outcome::Call { ok: true } => "call succeeded".to_string(),
        Outcome::Call { ok: false } => "call failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + min * 60).unwrap()
    }

    fn spec(kind: CheckKind) -> CheckSpec {
        CheckSpec {
            name: "c".into(),
            kind,
            down_after: DownAfter {
                failures: 3,
                within: SignedDuration::from_mins(15),
            },
            maintenance: Maintenance::default(),
        }
    }

    fn http() -> CheckSpec {
        spec(CheckKind::Http(HttpProbe {
            url: "http://gateway/status".into(),
            interval: SignedDuration::from_mins(5),
            timeout: SignedDuration::from_secs(5),
            expect_status: 200,
            body_contains: None,
            slow_after: SignedDuration::from_secs(1),
        }))
    }

    fn probe(min: i64, status: Option<u16>, ms: u64) -> CheckResult {
        CheckResult {
            at: t(min),
            outcome: Outcome::Probe {
                status,
                latency_ms: ms,
                body_matched: true,
                error: status.is_none().then(|| "timed out".to_string()),
            },
        }
    }

    #[test]
    fn http_goes_up_degraded_down_and_up_again() {
        let c = http();
        let mut rs = vec![];
        assert_eq!(evaluate(&c, &rs, t(0)).state, HealthState::Pending);
        rs.push(probe(0, Some(200), 80));
        assert_eq!(evaluate(&c, &rs, t(0)).state, HealthState::Up);
        rs.push(probe(5, Some(200), 2_500));
        assert_eq!(evaluate(&c, &rs, t(5)).state, HealthState::Degraded);
        rs.push(probe(10, Some(500), 30));
        rs.push(probe(11, Some(500), 30));
        let two = evaluate(&c, &rs, t(11));
        assert_eq!(two.state, HealthState::Degraded, "{}", two.reason);
        rs.push(probe(12, None, 5_000));
        let down = evaluate(&c, &rs, t(12));
        assert_eq!(down.state, HealthState::Down);
        assert!(down.reason.contains("3 failures"), "{}", down.reason);
        rs.push(probe(17, Some(200), 90));
        assert_eq!(evaluate(&c, &rs, t(17)).state, HealthState::Up);
    }

    #[test]
    fn failures_older_than_the_window_do_not_count_toward_down() {
        let c = http();
        let rs = vec![
            probe(0, Some(500), 1),
            probe(10, Some(500), 1),
            probe(20, Some(500), 1),
        ];
        assert_eq!(evaluate(&c, &rs, t(20)).state, HealthState::Degraded);
    }

    #[test]
    fn a_missing_body_text_or_wrong_status_is_a_failure() {
        let c = http();
        let mut r = probe(0, Some(200), 10);
        if let Outcome::Probe { body_matched, .. } = &mut r.outcome {
            *body_matched = false;
        }
        assert_eq!(grade(&c.kind, &r), Grade::Failed);
        assert_eq!(grade(&c.kind, &probe(0, Some(204), 10)), Grade::Failed);
    }

    #[test]
    fn heartbeat_is_late_then_down_after_missed_periods() {
        let c = spec(CheckKind::Heartbeat {
            period: SignedDuration::from_mins(5),
        });
        let beat = |m| CheckResult {
            at: t(m),
            outcome: Outcome::Beat,
        };
        assert_eq!(evaluate(&c, &[], t(0)).state, HealthState::Pending);
        let rs = vec![beat(0)];
        assert_eq!(evaluate(&c, &rs, t(4)).state, HealthState::Up);
        assert_eq!(evaluate(&c, &rs, t(6)).state, HealthState::Degraded);
        let down = evaluate(&c, &rs, t(15));
        assert_eq!(down.state, HealthState::Down, "{}", down.reason);
        let rs = vec![beat(0), beat(16)];
        assert_eq!(evaluate(&c, &rs, t(16)).state, HealthState::Up);
    }

    #[test]
    fn threshold_is_degraded_above_one_bound_and_down_above_the_other() {
        let mut c = spec(CheckKind::Threshold {
            degraded_above: 100.0,
            down_above: 500.0,
        });
        c.down_after.failures = 1;
        let v = |m, value| CheckResult {
            at: t(m),
            outcome: Outcome::Value { value },
        };
        let mut rs = vec![v(0, 10.0)];
        assert_eq!(evaluate(&c, &rs, t(0)).state, HealthState::Up);
        rs.push(v(1, 150.0));
        assert_eq!(evaluate(&c, &rs, t(1)).state, HealthState::Degraded);
        rs.push(v(2, 900.0));
        assert_eq!(evaluate(&c, &rs, t(2)).state, HealthState::Down);
        rs.push(v(3, 20.0));
        assert_eq!(evaluate(&c, &rs, t(3)).state, HealthState::Up);
    }

    #[test]
    fn success_ratio_counts_only_the_last_n_calls() {
        let c = spec(CheckKind::SuccessRatio {
            dependency: "courier".into(),
            last: 10,
            degraded_below: 0.95,
            down_below: 0.8,
        });
        let call = |m, ok| CheckResult {
            at: t(m),
            outcome: Outcome::Call { ok },
        };
        let mut rs: Vec<_> = (0..10).map(|m| call(m, true)).collect();
        assert_eq!(evaluate(&c, &rs, t(10)).state, HealthState::Up);
        rs.push(call(10, false));
        let one = evaluate(&c, &rs, t(10));
        assert_eq!(one.state, HealthState::Degraded, "{}", one.reason);
        assert!(one.reason.contains("9 of the last 10"), "{}", one.reason);
        rs.push(call(11, false));
        rs.push(call(12, false));
        assert_eq!(evaluate(&c, &rs, t(12)).state, HealthState::Down);
        rs.extend((13..23).map(|m| call(m, true)));
        assert_eq!(evaluate(&c, &rs, t(23)).state, HealthState::Up);
    }

    #[test]
    fn maintenance_wins_over_any_result() {
        let mut c = http();
        c.maintenance.windows.push((t(10), t(20)));
        let rs = vec![probe(11, None, 1), probe(12, None, 1), probe(13, None, 1)];
        assert_eq!(evaluate(&c, &rs, t(13)).state, HealthState::Maintenance);
        assert_eq!(evaluate(&c, &rs, t(20)).state, HealthState::Down);
        c.maintenance.on = true;
        assert_eq!(evaluate(&c, &rs, t(20)).state, HealthState::Maintenance);
    }
}
