//! Running subscriptions: one step, [`ReportRunner::run_due_once`], that
//! the binary loops and tests drive with a fixed clock.
//!
//! Each step, for every subscription: make sure its next run is scheduled
//! (the first time after now that its schedule names); when that time has
//! come, claim the run (one instance sends it), build the report, skip it
//! when it is empty and the subscription says so, send it on each channel
//! and record how it ended; then schedule the one after. A run missed
//! while opsdeck was down runs once when it is back, not once per missed
//! time.
//!
//! A channel that asks to retry is tried again once at once; a run that
//! still fails on any channel is recorded as failed and its owner is told
//! through the notifier they chose. The next run comes at its time as
//! usual.

use crate::csv::write_report;
use crate::digest::{daily_digest, summary_text, DigestSources};
use crate::document::Report;
use crate::playbook::playbook_report;
use crate::subscription::{ReportKind, Subscription};
use jiff::Timestamp;
use opsdeck_alerts::notify::email::{Attachment, EmailNotifier, Mail};
use opsdeck_alerts::notify::{Notifiers, SendOutcome};
use opsdeck_store::alerts::Channel;
use opsdeck_store::{ReportRun, RunStatus, Store, StoreError};
use serde_json::json;
use std::sync::Arc;

/// How reports leave: the configured alert notifiers, and the email one
/// again for messages with attachments.
#[derive(Clone, Default)]
pub struct Delivery {
    pub email: Option<Arc<EmailNotifier>>,
    pub notifiers: Notifiers,
}

/// What one step did, by subscription name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub sent: Vec<String>,
    pub skipped: Vec<String>,
    /// (subscription, why).
    pub failed: Vec<(String, String)>,
}

/// A subscription as `/reports` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionStatus {
    pub subscription: Subscription,
    pub next_run: Option<Timestamp>,
    pub last_run: Option<ReportRun>,
}

pub struct ReportRunner {
    store: Arc<dyn Store>,
    subscriptions: Vec<Subscription>,
    digest: DigestSources,
    delivery: Delivery,
    /// Links in Slack and Telegram messages point to `{dashboard_url}/reports`.
    dashboard_url: String,
}

impl ReportRunner {
    pub fn new(
        store: Arc<dyn Store>,
        subscriptions: Vec<Subscription>,
        digest: DigestSources,
        delivery: Delivery,
        dashboard_url: impl Into<String>,
    ) -> Self {
        ReportRunner {
            store,
            subscriptions,
            digest,
            delivery,
            dashboard_url: dashboard_url.into(),
        }
    }

    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// Runs every subscription whose time has come (see the module docs).
    #[tracing::instrument(name = "reports_run_due_once", skip_all)]
    pub async fn run_due_once(&self, now: Timestamp) -> Result<RunSummary, StoreError> {
        let mut summary = RunSummary::default();
        for subscription in &self.subscriptions {
            let name = &subscription.name;
            let upcoming = match self.store.report_run_upcoming(name).await? {
                Some(run) => run,
                None => {
                    let Some(at) = subscription.schedule.next_after(now) else {
                        continue;
                    };
                    self.store.report_run_schedule(name, at).await?;
                    continue;
                }
            };
            if upcoming.scheduled_for > now {
                continue;
            }
            if !self.store.report_run_claim(upcoming.id, now).await? {
                continue;
            }
            let (status, detail) = self.run(subscription, now).await;
            self.store
                .report_run_finish(upcoming.id, status, &detail, now)
                .await?;
            match status {
                RunStatus::Sent => summary.sent.push(name.clone()),
                RunStatus::Skipped => summary.skipped.push(name.clone()),
                _ => {
                    self.tell_owner(subscription, &detail).await;
                    summary.failed.push((name.clone(), detail));
                }
            }
            if let Some(at) = subscription.schedule.next_after(now) {
                self.store.report_run_schedule(name, at).await?;
            }
        }
        Ok(summary)
    }

    /// Each subscription with its next run and its last run.
    pub async fn statuses(&self) -> Result<Vec<SubscriptionStatus>, StoreError> {
        let mut out = Vec::new();
        for subscription in &self.subscriptions {
            let next_run = self
                .store
                .report_run_upcoming(&subscription.name)
                .await?
                .map(|r| r.scheduled_for);
            let last_run = self
                .store
                .report_runs(&subscription.name, 1)
                .await?
                .into_iter()
                .next();
            out.push(SubscriptionStatus {
                subscription: subscription.clone(),
                next_run,
                last_run,
            });
        }
        Ok(out)
    }

    /// The report a subscription sends at `now`.
    pub async fn build(
        &self,
        subscription: &Subscription,
        now: Timestamp,
    ) -> Result<Report, String> {
        let mut report = match subscription.report {
            ReportKind::DailyDigest => {
                let facts = self.digest.gather(now).await.map_err(|e| e.to_string())?;
                daily_digest(
                    &facts,
                    subscription.brands.as_deref(),
                    subscription.schedule.zone_name(),
                    subscription.sees_revenue,
                )
            }
            ReportKind::Playbook(cadence) => playbook_report(
                &self.digest,
                &self.digest.regions,
                cadence,
                subscription.brands.as_deref(),
                subscription.schedule.zone_name(),
                subscription.sees_revenue,
                now,
            )
            .await
            .map_err(|e| e.to_string())?,
        };
        if let Some(only) = &subscription.sections {
            report.sections.retain(|s| only.contains(&s.id));
        }
        Ok(report)
    }

    async fn run(&self, subscription: &Subscription, now: Timestamp) -> (RunStatus, String) {
        let report = match self.build(subscription, now).await {
            Ok(report) => report,
            Err(e) => return (RunStatus::Failed, format!("building the report: {e}")),
        };
        if subscription.skip_when_empty && report.is_empty() {
            return (RunStatus::Skipped, "nothing to report".into());
        }
        let mut failures = Vec::new();
        for channel in &subscription.channels {
            let outcome = self.send_twice(subscription, channel, &report, now).await;
            if let Some(error) = outcome {
                failures.push(format!("{}: {error}", channel.as_str()));
            }
        }
        if failures.is_empty() {
            let names: Vec<&str> = subscription.channels.iter().map(|c| c.as_str()).collect();
            (RunStatus::Sent, format!("sent by {}", names.join(", ")))
        } else {
            (RunStatus::Failed, failures.join("; "))
        }
    }

    /// Sends on one channel, once more at once when it asks to retry;
    /// `None` when delivered, the error otherwise.
    async fn send_twice(
        &self,
        subscription: &Subscription,
        channel: &Channel,
        report: &Report,
        now: Timestamp,
    ) -> Option<String> {
        let mut last = None;
        for _ in 0..2 {
            match self.send(subscription, channel, report, now).await {
                SendOutcome::Delivered => return None,
                SendOutcome::Retry { error, .. } => last = Some(error),
                SendOutcome::Refused { error } => return Some(error),
            }
        }
        last
    }

    async fn send(
        &self,
        subscription: &Subscription,
        channel: &Channel,
        report: &Report,
        now: Timestamp,
    ) -> SendOutcome {
        let text = summary_text(report);
        let day = now
            .to_zoned(subscription.schedule.zone().clone())
            .date()
            .to_string();
        match channel {
            Channel::Email => {
                let Some(email) = &self.delivery.email else {
                    return SendOutcome::Refused {
                        error: "no [notifiers.email] is configured".into(),
                    };
                };
                let mut csv = Vec::new();
                if let Err(e) = write_report(report, &mut csv) {
                    return SendOutcome::Refused {
                        error: format!("writing the CSV: {e}"),
                    };
                }
                email
                    .send_mail(&Mail {
                        to: subscription.recipients.clone(),
                        subject: format!("{} · {day}", report.title),
                        text,
                        attachments: vec![Attachment {
                            filename: format!("{}-{day}.csv", subscription.name),
                            content_type: "text/csv; charset=utf-8".into(),
                            bytes: csv,
                        }],
                    })
                    .await
            }
            other => {
                let Some(notifier) = self.delivery.notifiers.get(other) else {
                    return SendOutcome::Refused {
                        error: format!("no [notifiers.{}] is configured", other.as_str()),
                    };
                };
                let link = format!("{}/reports", self.dashboard_url.trim_end_matches('/'));
                notifier
                    .send(&json!({ "text": format!("{text}\n{link}") }))
                    .await
            }
        }
    }

    /// Tells the owner a run failed, through the notifier they chose; a
    /// failure to tell them is logged (the run's row says what happened).
    async fn tell_owner(&self, subscription: &Subscription, detail: &str) {
        let Some(owner) = &subscription.owner else {
            tracing::warn!(subscription = %subscription.name, "a report run failed and it has no owner to tell");
            return;
        };
        let subject = format!("Report \"{}\" failed", subscription.name);
        let text = format!(
            "{subject}: {detail}\nIts next run is as scheduled; see {}/reports",
            self.dashboard_url.trim_end_matches('/')
        );
        let outcome = match (&owner.channel, &self.delivery.email) {
            (Channel::Email, Some(email)) => {
                let to = match &owner.email {
                    Some(address) => vec![address.clone()],
                    None => email.recipients().to_vec(),
                };
                email
                    .send_mail(&Mail {
                        to,
                        subject,
                        text,
                        attachments: vec![],
                    })
                    .await
            }
            (channel, _) => match self.delivery.notifiers.get(channel) {
                Some(notifier) => notifier.send(&json!({ "text": text })).await,
                None => SendOutcome::Refused {
                    error: format!("no [notifiers.{}] is configured", channel.as_str()),
                },
            },
        };
        if outcome != SendOutcome::Delivered {
            tracing::warn!(subscription = %subscription.name, owner = %owner.name, ?outcome, "the owner of a failed report run could not be told");
        }
    }
}

#[cfg(test)]
mod tests;
