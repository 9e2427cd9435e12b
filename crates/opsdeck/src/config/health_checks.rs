//! `[health_checks.NAME]`: the system health checks (issue 16, point 4),
//! each of one kind (`opsdeck_domain::health`).
//!
//! ```toml
//! [health_checks.payment_gateway]
//! kind = "http"
//! url = "https://status.gateway.example/api/health"
//! interval = "5m"             # up to 24h
//! timeout = "10s"             # up to 60s
//! expect_status = 200         # the default
//! body_contains = "operational"
//! slow_after = "2s"           # a slower good answer is degraded (up to the timeout)
//! down_after_failures = 3     # down after 3 failures…
//! down_within = "15m"         # …within 15 minutes (up to 24h)
//!
//! [health_checks.label_worker]
//! kind = "heartbeat"          # POST /api/v1/ingest/heartbeats {"check": "label_worker"}
//! period = "2m"               # down after `down_after_failures` (2) missed periods
//!
//! [health_checks.pick_queue]
//! kind = "threshold"          # POST /api/v1/ingest/health-values {"check": …, "value": …}
//! degraded_above = 200
//! down_above = 1000
//!
//! [health_checks.courier_api]
//! kind = "success_ratio"      # over the pushed health-checks of this dependency
//! dependency = "courier-api"
//! last = 100
//! degraded_below = 0.95
//! down_below = 0.8
//!
//! # Any kind: not judged while switched on, or within a window.
//! maintenance = false
//! maintenance_windows = ["2026-12-24T22:00:00Z/2026-12-25T02:00:00Z"]
//! ```
//!
//! Without the section: no checks (the page lists only the pushed
//! `HealthCheck` records).

use super::walk::Section;
use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::health::{CheckKind, CheckSpec, DownAfter, HttpProbe, Maintenance};

/// The longest interval, period or failure window: a check looked at less
/// than daily watches nothing an on-call person can act on.
const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// The longest an HTTP probe may wait for its answer.
const MAX_TIMEOUT: SignedDuration = SignedDuration::from_secs(60);
/// The most failures "down" may wait for.
const MAX_FAILURES: u32 = 100;
/// The most results a success ratio may count.
const MAX_LAST: u32 = 10_000;
/// A check's name: it is what pushes name and what URLs carry.
const MAX_NAME: usize = 64;

pub(super) fn parse_health_checks(root: &Section<'_, '_>) -> Vec<CheckSpec> {
    let Some(s) = root.opt_table("health_checks") else {
        return Vec::new();
    };
    let mut checks = Vec::new();
    for (name, item) in s.entries() {
        let Some(c) = s.entry_table(name, item) else {
            continue;
        };
        if name.is_empty()
            || name.len() > MAX_NAME
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            s.problem(
                name,
                format!("a check name has 1 to {MAX_NAME} ASCII letters, digits, '_' or '-'"),
            );
        }
        if let Some(check) = parse_check(&c, name) {
            checks.push(check);
        }
        c.finish();
    }
    checks
}

fn parse_check(c: &Section<'_, '_>, name: &str) -> Option<CheckSpec> {
    let kind = c.req_str("kind")?;
    let (kind, failures, within) = match kind {
        "http" => {
            let probe = http(c)?;
            let within = (probe.interval * 3).min(MAX_WINDOW);
            (CheckKind::Http(probe), 3, within)
        }
        "heartbeat" => {
            let period = window(c, "period", None)?;
            (CheckKind::Heartbeat { period }, 2, MAX_WINDOW)
        }
        "threshold" => {
            let degraded_above = req_f64(c, "degraded_above");
            let down_above = req_f64(c, "down_above");
            let (degraded_above, down_above) = (degraded_above?, down_above?);
            if degraded_above > down_above {
                c.problem(
                    "degraded_above",
                    format!("{degraded_above} is above down_above ({down_above})"),
                );
                return None;
            }
            let kind = CheckKind::Threshold {
                degraded_above,
                down_above,
            };
            (kind, 1, SignedDuration::from_mins(15))
        }
        "success_ratio" => {
            let dependency = c.req_str("dependency").map(str::to_string);
            let last = c.opt_u32("last").unwrap_or(100);
            if !(1..=MAX_LAST).contains(&last) {
                c.problem("last", format!("must be 1 to {MAX_LAST}, found {last}"));
            }
            let degraded_below = ratio(c, "degraded_below");
            let down_below = ratio(c, "down_below");
            let (dependency, degraded_below, down_below) =
                (dependency?, degraded_below?, down_below?);
            if down_below > degraded_below {
                c.problem(
                    "down_below",
                    format!("{down_below} is above degraded_below ({degraded_below})"),
                );
                return None;
            }
            let kind = CheckKind::SuccessRatio {
                dependency,
                last,
                degraded_below,
                down_below,
            };
            (kind, 1, MAX_WINDOW)
        }
        other => {
            c.problem(
                "kind",
                format!(
                    "{other:?} is not a kind of check: use http, heartbeat, threshold or success_ratio"
                ),
            );
            return None;
        }
    };
    let failures = c.opt_u32("down_after_failures").unwrap_or(failures);
    if !(1..=MAX_FAILURES).contains(&failures) {
        c.problem(
            "down_after_failures",
            format!("must be 1 to {MAX_FAILURES}, found {failures}"),
        );
    }
    let within = window(c, "down_within", Some(within))?;
    let maintenance = Maintenance {
        on: c.opt_bool("maintenance").unwrap_or(false),
        windows: maintenance_windows(c),
    };
    Some(CheckSpec {
        name: name.to_string(),
        kind,
        down_after: DownAfter { failures, within },
        maintenance,
    })
}

fn http(c: &Section<'_, '_>) -> Option<HttpProbe> {
    let url = c.req_str("url").and_then(|u| match url::Url::parse(u) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Some(u.to_string()),
        _ => {
            c.problem("url", format!("{u:?} is not an http:// or https:// URL"));
            None
        }
    });
    let interval = window(c, "interval", Some(SignedDuration::from_mins(5)));
    let timeout = bounded(c, "timeout", SignedDuration::from_secs(10), MAX_TIMEOUT);
    let expect_status = c.opt_u32("expect_status").unwrap_or(200);
    if !(100..=599).contains(&expect_status) {
        c.problem(
            "expect_status",
            format!("must be an HTTP status 100 to 599, found {expect_status}"),
        );
    }
    let body_contains = c.opt_str("body_contains").map(str::to_string);
    let (interval, timeout) = (interval?, timeout?);
    if timeout >= interval {
        c.problem(
            "timeout",
            format!("must be shorter than the interval ({interval:#})"),
        );
        return None;
    }
    let slow_after = bounded(
        c,
        "slow_after",
        SignedDuration::from_secs(2).min(timeout),
        timeout,
    )?;
    Some(HttpProbe {
        url: url?,
        interval,
        timeout,
        expect_status: u16::try_from(expect_status).ok()?,
        body_contains,
        slow_after,
    })
}

/// A duration up to [`MAX_WINDOW`]; `default` when absent (`None`: required).
fn window(
    c: &Section<'_, '_>,
    key: &'static str,
    default: Option<SignedDuration>,
) -> Option<SignedDuration> {
    let value = match default {
        Some(d) => match c.opt_str(key) {
            Some(v) => v,
            None => return Some(d),
        },
        None => c.req_str(key)?,
    };
    super::parse::duration_up_to(c, key, value, MAX_WINDOW)
}

fn bounded(
    c: &Section<'_, '_>,
    key: &'static str,
    default: SignedDuration,
    max: SignedDuration,
) -> Option<SignedDuration> {
    match c.opt_str(key) {
        Some(v) => super::parse::duration_up_to(c, key, v, max),
        None => Some(default),
    }
}

fn req_f64(c: &Section<'_, '_>, key: &'static str) -> Option<f64> {
    if !c.has_key(key) {
        c.section_problem(key, "is required");
        return None;
    }
    let v = c.opt_f64(key)?;
    if !v.is_finite() || v < 0.0 {
        c.problem(key, format!("must be a number of 0 or more, found {v}"));
        return None;
    }
    Some(v)
}

fn ratio(c: &Section<'_, '_>, key: &'static str) -> Option<f64> {
    let v = req_f64(c, key)?;
    if v > 1.0 {
        c.problem(key, format!("is a share from 0 to 1, found {v}"));
        return None;
    }
    Some(v)
}

fn maintenance_windows(c: &Section<'_, '_>) -> Vec<(Timestamp, Timestamp)> {
    let Some(list) = c.opt_str_list("maintenance_windows") else {
        return Vec::new();
    };
    list.into_iter()
        .filter_map(|w| {
            let parsed = w.split_once('/').and_then(|(a, b)| {
                Some((a.trim().parse::<Timestamp>().ok()?, b.trim().parse::<Timestamp>().ok()?))
            });
            match parsed {
                Some((start, end)) if start < end => Some((start, end)),
                _ => {
                    c.problem(
                        "maintenance_windows",
                        format!(
                            "{w:?} is not a window START/END of two UTC instants, start first, like \"2026-12-24T22:00:00Z/2026-12-25T02:00:00Z\""
                        ),
                    );
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{parse_config, SecretSource};
    use jiff::SignedDuration;
    use opsdeck_domain::health::CheckKind;
    use std::path::Path;

    struct NoSecrets;

    impl SecretSource for NoSecrets {
        fn env(&self, _: &str) -> Option<String> {
            None
        }
        fn file(&self, _: &Path) -> std::io::Result<String> {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }

    fn parse(section: &str) -> Result<super::super::Config, Vec<super::super::ConfigProblem>> {
        let text = format!(
            "[[brands]]\nid = \"shop\"\nname = \"Shop\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Berlin\"\n\n{section}"
        );
        parse_config(&text, &NoSecrets)
    }

    #[test]
    fn each_kind_reads_with_its_defaults() {
        let c = parse(
            "[health_checks.gateway]\nkind = \"http\"\nurl = \"https://gw.example/status\"\nbody_contains = \"ok\"\n\
             [health_checks.worker]\nkind = \"heartbeat\"\nperiod = \"2m\"\n\
             [health_checks.queue]\nkind = \"threshold\"\ndegraded_above = 100\ndown_above = 500\n\
             [health_checks.courier]\nkind = \"success_ratio\"\ndependency = \"courier-api\"\ndegraded_below = 0.95\ndown_below = 0.8\n\
             maintenance_windows = [\"2026-12-24T22:00:00Z/2026-12-25T02:00:00Z\"]\n",
        )
        .unwrap();
        let by = |n: &str| c.health_checks.iter().find(|h| h.name == n).unwrap();
        let CheckKind::Http(p) = &by("gateway").kind else {
            panic!("http");
        };
        assert_eq!(
            (p.interval, p.timeout, p.expect_status, p.slow_after),
            (
                SignedDuration::from_mins(5),
                SignedDuration::from_secs(10),
                200,
                SignedDuration::from_secs(2)
            )
        );
        assert_eq!(by("gateway").down_after.failures, 3);
        assert_eq!(
            by("gateway").down_after.within,
            SignedDuration::from_mins(15)
        );
        assert!(matches!(by("worker").kind, CheckKind::Heartbeat { .. }));
        assert!(matches!(by("queue").kind, CheckKind::Threshold { .. }));
        let CheckKind::SuccessRatio { last, .. } = by("courier").kind else {
            panic!("ratio");
        };
        assert_eq!(last, 100);
        assert_eq!(by("courier").maintenance.windows.len(), 1);
    }

    #[test]
    fn bad_checks_are_named_with_their_bound() {
        for (section, key, words) in [
            ("[health_checks.g]\nkind = \"ping\"", "health_checks.g.kind", "use http"),
            ("[health_checks.g]\nkind = \"http\"", "health_checks.g.url", "is required"),
            (
                "[health_checks.g]\nkind = \"http\"\nurl = \"ftp://x\"",
                "health_checks.g.url",
                "http://",
            ),
            (
                "[health_checks.g]\nkind = \"http\"\nurl = \"http://x\"\ninterval = \"25h\"",
                "health_checks.g.interval",
                "24h",
            ),
            (
                "[health_checks.g]\nkind = \"http\"\nurl = \"http://x\"\ntimeout = \"2m\"",
                "health_checks.g.timeout",
                "60s",
            ),
            (
                "[health_checks.g]\nkind = \"http\"\nurl = \"http://x\"\nexpect_status = 700",
                "health_checks.g.expect_status",
                "100 to 599",
            ),
            (
                "[health_checks.g]\nkind = \"http\"\nurl = \"http://x\"\ndown_after_failures = 0",
                "health_checks.g.down_after_failures",
                "1 to 100",
            ),
            ("[health_checks.w]\nkind = \"heartbeat\"", "health_checks.w.period", "is required"),
            (
                "[health_checks.q]\nkind = \"threshold\"\ndegraded_above = 600\ndown_above = 500",
                "health_checks.q.degraded_above",
                "above down_above",
            ),
            (
                "[health_checks.c]\nkind = \"success_ratio\"\ndependency = \"d\"\ndegraded_below = 1.5\ndown_below = 0.5",
                "health_checks.c.degraded_below",
                "0 to 1",
            ),
            (
                "[health_checks.c]\nkind = \"success_ratio\"\ndependency = \"d\"\nlast = 0\ndegraded_below = 0.9\ndown_below = 0.5",
                "health_checks.c.last",
                "1 to 10000",
            ),
            (
                "[health_checks.w]\nkind = \"heartbeat\"\nperiod = \"1m\"\nmaintenance_windows = [\"tomorrow\"]",
                "health_checks.w.maintenance_windows",
                "START/END",
            ),
            (
                "[health_checks.w]\nkind = \"heartbeat\"\nperiod = \"1m\"\nurl = \"http://x\"",
                "health_checks.w.url",
                "unknown key",
            ),
            (
                "[health_checks.\"a b\"]\nkind = \"heartbeat\"\nperiod = \"1m\"",
                "health_checks.a b",
                "ASCII letters",
            ),
        ] {
            let problems = parse(&format!("{section}\n")).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.key == key && p.message.contains(words)),
                "{section}: {problems:?}"
            );
        }
    }
}
