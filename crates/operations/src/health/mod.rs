//! System health checks at work (issue 16, point 4): probing HTTP checks,
//! taking pushed heartbeats and values, judging every check with the one
//! rule (`opsdeck_domain::health::evaluate`) and recording each change of
//! state in the store, where the page and the `health_check_down` alert
//! read it.
//!
//! - HTTP checks are probed by [`HealthChecks::probe_due`] once their
//!   interval has passed since their last result.
//! - Heartbeats and threshold values arrive through the ingest API
//!   ([`HealthChecks::push`]), checked against their bound first.
//! - A success ratio counts the pushed `HealthCheck` records of its
//!   dependency (the kind custom platforms already push), read from the
//!   projection: no second copy of them is kept.
//! - [`run`] loops [`HealthChecks::step`] (probe what is due, evaluate
//!   every check, prune old history).

use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::health::{
    evaluate, grade, CheckKind, CheckResult, CheckSpec, Evaluation, Grade, HttpProbe, Outcome,
};
use opsdeck_metrics::SharedProjection;
use opsdeck_store::health_checks::{HealthStateChange, StoredHealthState};
use opsdeck_store::{Store, StoreError};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The largest magnitude a pushed value may have: beyond it a queue length
/// or a count is a bug in the pushing platform, not a reading.
pub const MAX_PUSHED_VALUE: f64 = 1e12;
/// How long results and state changes are kept.
pub const HISTORY_KEPT: SignedDuration = SignedDuration::from_hours(30 * 24);
/// The most results the page draws per check.
pub const SPARKLINE_RESULTS: u32 = 30;
/// How often [`run`] steps.
const STEP_EVERY: Duration = Duration::from_secs(15);

/// Why a push or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("no health check is named {0:?}")]
    UnknownCheck(String),
    /// A push that does not fit its check: the message names the bound.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a platform pushes to a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Push {
    Heartbeat,
    Value(f64),
}

/// One check as the page and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub name: String,
    pub kind: &'static str,
    /// What it watches, in words ("GET https://… every 5m").
    pub target: String,
    pub state: opsdeck_domain::health::HealthState,
    pub reason: String,
    /// Since when the state holds (`None` before the first evaluation).
    pub since: Option<Timestamp>,
    pub last_result: Option<ResultView>,
    /// The last results, oldest first, for the sparkline.
    pub recent: Vec<ResultView>,
    pub changes: Vec<HealthStateChange>,
}

/// One result with how it reads against its check.
#[derive(Debug, Clone, Serialize)]
pub struct ResultView {
    pub at: Timestamp,
    pub grade: Grade,
    pub text: String,
}

/// The configured checks and what they need to run.
pub struct HealthChecks {
    store: Arc<dyn Store>,
    checks: Vec<CheckSpec>,
    projection: SharedProjection,
    http: reqwest::Client,
}

impl HealthChecks {
    pub fn new(
        store: Arc<dyn Store>,
        checks: Vec<CheckSpec>,
        projection: SharedProjection,
    ) -> HealthChecks {
        HealthChecks {
            store,
            checks,
            projection,
            // Redirects are followed as a browser would; each probe sets
            // its own timeout.
            http: reqwest::Client::builder()
                .user_agent("opsdeck-health-check")
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn checks(&self) -> &[CheckSpec] {
        &self.checks
    }

    fn check(&self, name: &str) -> Result<&CheckSpec, HealthError> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| HealthError::UnknownCheck(name.to_string()))
    }

    /// Records what a platform pushed to `name` at `now`: a heartbeat to a
    /// heartbeat check, a value (finite, within ±[`MAX_PUSHED_VALUE`]) to
    /// a threshold check. Anything else is refused and nothing stored.
    pub async fn push(&self, name: &str, push: Push, now: Timestamp) -> Result<(), HealthError> {
        let check = self.check(name)?;
        let outcome = match (&check.kind, push) {
            (CheckKind::Heartbeat { .. }, Push::Heartbeat) => Outcome::Beat,
            (CheckKind::Threshold { .. }, Push::Value(value)) => {
                if !value.is_finite() || value.abs() > MAX_PUSHED_VALUE {
                    return Err(HealthError::Invalid(format!(
                        "value {value} is outside -{MAX_PUSHED_VALUE:e} to {MAX_PUSHED_VALUE:e}"
                    )));
                }
                Outcome::Value { value }
            }
            (kind, Push::Heartbeat) => {
                return Err(HealthError::Invalid(format!(
                    "check {name:?} is a {} check: heartbeats go to heartbeat checks",
                    kind.label()
                )))
            }
            (kind, Push::Value(_)) => {
                return Err(HealthError::Invalid(format!(
                    "check {name:?} is a {} check: values go to threshold checks",
                    kind.label()
                )))
            }
        };
        let result = CheckResult { at: now, outcome };
        self.store.health_result_add(name, &result).await?;
        Ok(())
    }

    /// Probes every HTTP check whose last result is at least its interval
    /// old (or that has none), storing each result; how many were probed.
    pub async fn probe_due(&self, now: Timestamp) -> Result<usize, HealthError> {
        let mut probed = 0;
        for check in &self.checks {
            let CheckKind::Http(probe) = &check.kind else {
                continue;
            };
            let last = self
                .store
                .health_results_recent(&check.name, now - probe.interval, 1)
                .await?;
            if last.first().is_some_and(|r| r.at > now - probe.interval) {
                continue;
            }
            let result = self.probe(probe, now).await;
            tracing::debug!(check = %check.name, grade = ?grade(&check.kind, &result), "probed");
            self.store.health_result_add(&check.name, &result).await?;
            probed += 1;
        }
        Ok(probed)
    }

    /// One probe of `probe`'s URL, taken as at `now`; an error is a result
    /// (no status), never a failure of the step.
    pub async fn probe(&self, probe: &HttpProbe, now: Timestamp) -> CheckResult {
        let started = Instant::now();
        let timeout = Duration::try_from(probe.timeout).unwrap_or(Duration::from_secs(10));
        let answer = tokio::time::timeout(timeout, async {
            let response = self.http.get(&probe.url).send().await?;
            let status = response.status().as_u16();
            let body = match &probe.body_contains {
                Some(_) => Some(response.text().await?),
                None => None,
            };
            Ok::<_, reqwest::Error>((status, body))
        })
        .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let outcome = match answer {
            Ok(Ok((status, body))) => Outcome::Probe {
                status: Some(status),
                latency_ms,
                body_matched: match (&probe.body_contains, body) {
                    (Some(needle), Some(body)) => body.contains(needle.as_str()),
                    _ => true,
                },
                error: None,
            },
            // The error's text without the URL: it may carry a token in
            // its query string.
            Ok(Err(e)) => Outcome::Probe {
                status: None,
                latency_ms,
                body_matched: false,
                error: Some(e.without_url().to_string()),
            },
            Err(_) => Outcome::Probe {
                status: None,
                latency_ms,
                body_matched: false,
                error: Some(format!("timed out after {:#}", probe.timeout)),
            },
        };
        CheckResult { at: now, outcome }
    }

    /// The results `check`'s state depends on at `now`, newest first.
    pub async fn results_of(
        &self,
        check: &CheckSpec,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<CheckResult>, HealthError> {
        if let CheckKind::SuccessRatio {
            dependency, last, ..
        } = &check.kind
        {
            return Ok(self.pushed_calls(dependency, (*last).max(limit) as usize));
        }
        let since = match &check.kind {
            // The last beat, however old.
            CheckKind::Heartbeat { .. } => Timestamp::UNIX_EPOCH,
            _ => now - check.down_after.within.max(SignedDuration::from_hours(24)),
        };
        Ok(self
            .store
            .health_results_recent(&check.name, since, limit)
            .await?)
    }

    /// The last `n` pushed `HealthCheck` records of `dependency` over every
    /// brand, as calls.
    fn pushed_calls(&self, dependency: &str, n: usize) -> Vec<CheckResult> {
        let Ok(p) = self.projection.read() else {
            return Vec::new();
        };
        let Some(dep) = p.syms.find(dependency) else {
            return Vec::new();
        };
        let brands: Vec<u8> = (0..p.ctx.brands.len())
            .filter_map(|i| u8::try_from(i).ok())
            .collect();
        p.ops
            .recent_checks_of(&brands, dep, n)
            .into_iter()
            .filter_map(|row| {
                Some(CheckResult {
                    at: Timestamp::from_second(row.checked).ok()?,
                    outcome: Outcome::Call { ok: !row.failed },
                })
            })
            .collect()
    }

    /// Evaluates `check` at `now` from its results.
    pub async fn evaluate(
        &self,
        check: &CheckSpec,
        now: Timestamp,
    ) -> Result<Evaluation, HealthError> {
        let results = self.results_of(check, now, 1_000).await?;
        Ok(evaluate(check, &results, now))
    }

    /// Evaluates every check at `now` and records its state; the changes.
    pub async fn evaluate_once(
        &self,
        now: Timestamp,
    ) -> Result<Vec<HealthStateChange>, HealthError> {
        let mut changes = Vec::new();
        for check in &self.checks {
            let evaluation = self.evaluate(check, now).await?;
            if let Some(change) = self
                .store
                .health_state_record(&check.name, &evaluation, now)
                .await?
            {
                tracing::info!(
                    check = %check.name,
                    from = change.from.map(|s| s.as_str()),
                    to = change.to.as_str(),
                    reason = %change.reason,
                    "health check changed state"
                );
                changes.push(change);
            }
        }
        Ok(changes)
    }

    /// One turn of the loop: probe what is due, evaluate every check, and
    /// drop history older than [`HISTORY_KEPT`].
    pub async fn step(&self, now: Timestamp) -> Result<Vec<HealthStateChange>, HealthError> {
        self.probe_due(now).await?;
        let changes = self.evaluate_once(now).await?;
        self.store.health_prune(now - HISTORY_KEPT).await?;
        Ok(changes)
    }

    /// Every check as the page shows it at `now`: its recorded state (or
    /// pending), its last results and its last state changes.
    pub async fn overview(&self, now: Timestamp) -> Result<Vec<CheckView>, HealthError> {
        let states = self.store.health_states().await?;
        let mut out = Vec::new();
        for check in &self.checks {
            let stored: Option<&StoredHealthState> = states.iter().find(|s| s.check == check.name);
            let (state, reason, since) = match stored {
                Some(s) => (s.state, s.reason.clone(), Some(s.since)),
                None => {
                    let e = self.evaluate(check, now).await?;
                    (e.state, e.reason, None)
                }
            };
            let mut recent: Vec<ResultView> = self
                .results_of(check, now, SPARKLINE_RESULTS)
                .await?
                .into_iter()
                .take(SPARKLINE_RESULTS as usize)
                .map(|r| ResultView {
                    at: r.at,
                    grade: grade(&check.kind, &r),
                    text: opsdeck_domain::health::describe(&r),
                })
                .collect();
            recent.reverse();
            out.push(CheckView {
                name: check.name.clone(),
                kind: check.kind.label(),
                target: target(&check.kind),
                state,
                reason,
                since,
                last_result: recent.last().cloned(),
                recent,
                changes: self.store.health_changes(&check.name, 10).await?,
            });
        }
        Ok(out)
    }
}

/// What a check watches, in words.
fn target(kind: &CheckKind) -> String {
    match kind {
        CheckKind::Http(p) => format!(
            "GET {} every {:#}, expecting {}",
            p.url, p.interval, p.expect_status
        ),
        CheckKind::Heartbeat { period } => format!("a heartbeat every {period:#}"),
        CheckKind::Threshold {
            degraded_above,
            down_above,
        } => format!("a pushed value: degraded above {degraded_above}, down above {down_above}"),
        CheckKind::SuccessRatio {
            dependency,
            last,
            degraded_below,
            down_below,
        } => format!(
            "the last {last} {dependency} calls: degraded below {:.0} %, down below {:.0} %",
            degraded_below * 100.0,
            down_below * 100.0
        ),
    }
}

/// Runs [`HealthChecks::step`] every 15 seconds until `stop` turns true. A
/// failed step is logged and tried again at the next turn.
pub async fn run(
    checks: Arc<HealthChecks>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = checks.step(clock()).await {
            tracing::error!(error = %e, "health check step failed; retried at the next turn");
        }
        tokio::select! {
            _ = tokio::time::sleep(STEP_EVERY) => {}
            _ = stop.changed() => {}
        }
    }
}
