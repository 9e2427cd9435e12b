//! Schedules across Berlin's 2026 clock changes (29 March: 02:00 → 03:00;
//! 25 October: 03:00 → 02:00) and the spellings' errors.

use super::*;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Local wall times of the next `n` runs after `from`.
fn runs(schedule: &Schedule, from: &str, n: usize) -> Vec<String> {
    let mut after = t(from);
    let mut out = Vec::new();
    for _ in 0..n {
        after = schedule.next_after(after).unwrap();
        out.push(
            after
                .to_zoned(schedule.zone().clone())
                .strftime("%Y-%m-%d %H:%M %:z")
                .to_string(),
        );
    }
    out
}

#[test]
fn daily_0700_in_berlin_is_0700_local_across_both_changes() {
    let daily = Schedule::parse("daily 07:00", "Europe/Berlin").unwrap();
    assert_eq!(
        runs(&daily, "2026-03-27T12:00:00Z", 4),
        [
            "2026-03-28 07:00 +01:00",
            "2026-03-29 07:00 +02:00",
            "2026-03-30 07:00 +02:00",
            "2026-03-31 07:00 +02:00",
        ]
    );
    assert_eq!(
        runs(&daily, "2026-10-23T12:00:00Z", 4),
        [
            "2026-10-24 07:00 +02:00",
            "2026-10-25 07:00 +01:00",
            "2026-10-26 07:00 +01:00",
            "2026-10-27 07:00 +01:00",
        ]
    );
    // In UTC the runs move by an hour: 06:00Z in summer, 05:00Z before.
    assert_eq!(
        daily.next_after(t("2026-03-28T12:00:00Z")),
        Some(t("2026-03-29T05:00:00Z"))
    );
    assert_eq!(
        daily.next_after(t("2026-10-24T12:00:00Z")),
        Some(t("2026-10-25T06:00:00Z"))
    );
}

#[test]
fn a_skipped_time_runs_once_after_the_jump() {
    let daily = Schedule::parse("daily 02:30", "Europe/Berlin").unwrap();
    assert_eq!(
        runs(&daily, "2026-03-27T12:00:00Z", 3),
        [
            "2026-03-28 02:30 +01:00",
            // 02:30 does not exist on the 29th: it runs at 03:30, once.
            "2026-03-29 03:30 +02:00",
            "2026-03-30 02:30 +02:00",
        ]
    );
    // Asked from inside the jump's hour (03:10 local), the moved run is
    // still ahead.
    assert_eq!(
        daily.next_after(t("2026-03-29T01:10:00Z")),
        Some(t("2026-03-29T01:30:00Z"))
    );
}

#[test]
fn a_repeated_time_runs_once_at_its_first_occurrence() {
    let daily = Schedule::parse("daily 02:30", "Europe/Berlin").unwrap();
    assert_eq!(
        runs(&daily, "2026-10-24T12:00:00Z", 2),
        ["2026-10-25 02:30 +02:00", "2026-10-26 02:30 +01:00"]
    );
    // A cron every 30 minutes walks the repeated hour once.
    let half_hourly = Schedule::parse("cron */30 * * * *", "Europe/Berlin").unwrap();
    assert_eq!(
        runs(&half_hourly, "2026-10-24T23:45:00Z", 5),
        [
            "2026-10-25 02:00 +02:00",
            "2026-10-25 02:30 +02:00",
            "2026-10-25 03:00 +01:00",
            "2026-10-25 03:30 +01:00",
            "2026-10-25 04:00 +01:00",
        ]
    );
}

#[test]
fn weekly_monthly_and_cron_in_their_zone() {
    let weekly = Schedule::parse("weekly mon 08:00", "America/New_York").unwrap();
    // 2026-03-08 is New York's change; Monday the 9th is in EDT.
    assert_eq!(
        runs(&weekly, "2026-03-03T00:00:00Z", 2),
        ["2026-03-09 08:00 -04:00", "2026-03-16 08:00 -04:00"]
    );
    let monthly = Schedule::parse("monthly 1 06:00", "Europe/Berlin").unwrap();
    assert_eq!(
        runs(&monthly, "2026-02-15T00:00:00Z", 2),
        ["2026-03-01 06:00 +01:00", "2026-04-01 06:00 +02:00"]
    );
    let weekdays = Schedule::parse("cron 0 7 * * mon-fri", "Asia/Tokyo").unwrap();
    assert_eq!(
        runs(&weekdays, "2026-12-04T00:00:00Z", 2),
        ["2026-12-07 07:00 +09:00", "2026-12-08 07:00 +09:00"]
    );
}

#[test]
fn bad_spellings_name_what_was_wrong() {
    let err = |s: &str, z: &str| Schedule::parse(s, z).unwrap_err().to_string();
    assert!(err("daily 7am", "UTC").contains("HH:MM between 00:00 and 23:59"));
    assert!(err("daily 24:00", "UTC").contains("HH:MM"));
    assert!(err("weekly someday 07:00", "UTC").contains("mon, tue"));
    assert!(err("monthly 31 07:00", "UTC").contains("between 1 and 28"));
    assert!(err("hourly", "UTC").contains("expected \"daily HH:MM\""));
    assert!(err("cron 0 7 * *", "UTC").contains("five-field"));
    assert!(err("cron 0 99 * * *", "UTC").contains("cron"));
    assert!(err("daily 07:00", "Mars/Olympus").contains("unknown time zone \"Mars/Olympus\""));
}
