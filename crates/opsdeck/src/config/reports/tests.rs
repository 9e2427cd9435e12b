//! `[reports.NAME]` read into subscriptions, each problem named with its key.

use super::super::{parse_config, ConfigProblem, SecretSource};
use opsdeck_store::alerts::Channel;
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

fn parse(section: &str) -> Result<super::super::Config, Vec<ConfigProblem>> {
    let text = format!(
        "[[brands]]\nid = \"mavena\"\nname = \"Mavena\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Berlin\"\n\n{section}"
    );
    parse_config(&text, &NoSecrets)
}

fn messages(section: &str) -> Vec<String> {
    parse(section)
        .unwrap_err()
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_subscription_is_read_with_its_defaults() {
    let c = parse(
        "[reports.morning]\nschedule = \"daily 07:00\"\ntime_zone = \"Europe/Berlin\"\n\
         channels = [\"email\", \"slack\"]\nrecipients = [\"ops@example.com\"]\n\
         owner = \"admin\"\nowner_channel = \"telegram\"\n",
    )
    .unwrap();
    let s = &c.reports[0];
    assert_eq!(s.name, "morning");
    assert_eq!(s.schedule.spelling(), "daily 07:00");
    assert_eq!(s.schedule.zone_name(), "Europe/Berlin");
    assert_eq!(s.channels, [Channel::Email, Channel::Slack]);
    assert!(s.skip_when_empty);
    assert_eq!(s.audience, None);
    assert!(s.sees_revenue, "admins see revenue");
    assert_eq!(s.owner.as_ref().unwrap().channel, Channel::Telegram);
    assert!(parse("").unwrap().reports.is_empty());
}

#[test]
fn an_audience_without_revenue_gets_no_amounts() {
    let c = parse(
        "[reports.support]\nschedule = \"weekly mon 08:00\"\ntime_zone = \"UTC\"\n\
         channels = [\"slack\"]\naudience = \"support\"\n",
    )
    .unwrap();
    assert_eq!(c.reports[0].audience.as_deref(), Some("support"));
    assert!(!c.reports[0].sees_revenue);
    let c = parse(
        "[reports.finance]\nschedule = \"daily 07:00\"\ntime_zone = \"UTC\"\n\
         channels = [\"slack\"]\naudience = \"finance\"\n",
    )
    .unwrap();
    assert!(c.reports[0].sees_revenue);
}

#[test]
fn problems_name_the_key_and_what_is_allowed() {
    let all = messages(
        "[reports.bad]\nschedule = \"daily 25:00\"\ntime_zone = \"Europe/Berlin\"\n\
         channels = [\"fax\"]\nbrands = [\"nope\"]\nsections = [\"weather\"]\naudience = \"boss\"\n",
    )
    .join("\n");
    assert!(all.contains("reports.bad.schedule"), "{all}");
    assert!(all.contains("HH:MM between 00:00 and 23:59"), "{all}");
    assert!(
        all.contains("unknown channel \"fax\": use email, slack or telegram"),
        "{all}"
    );
    assert!(
        all.contains("\"nope\" is not a configured brand id"),
        "{all}"
    );
    assert!(all.contains("unknown section \"weather\""), "{all}");
    assert!(all.contains("unknown role \"boss\""), "{all}");
    let zone = messages(
        "[reports.z]\nschedule = \"daily 07:00\"\ntime_zone = \"Mars/Base\"\nchannels = [\"slack\"]\n",
    )
    .join("\n");
    assert!(zone.contains("reports.z.time_zone"), "{zone}");
    let email = messages(
        "[reports.e]\nschedule = \"daily 07:00\"\ntime_zone = \"UTC\"\nchannels = [\"email\"]\n",
    )
    .join("\n");
    assert!(
        email.contains("the email channel needs at least one recipient"),
        "{email}"
    );
}

#[test]
fn a_playbook_report_takes_the_playbook_schedule_and_its_sections() {
    let c = parse(
        "[reports.weekly]\nreport = \"weekly\"\ntime_zone = \"Europe/Berlin\"\n\
         channels = [\"slack\"]\nsections = [\"conversion_funnel\", \"team_activity\"]\n",
    )
    .unwrap();
    assert_eq!(c.reports[0].schedule.spelling(), "weekly mon 07:00");
    let wrong = messages(
        "[reports.weekly]\nreport = \"weekly\"\ntime_zone = \"UTC\"\n\
         channels = [\"slack\"]\nsections = [\"tickets\"]\n",
    )
    .join("\n");
    assert!(
        wrong.contains("unknown section \"tickets\": use conversion_funnel"),
        "{wrong}"
    );
}
