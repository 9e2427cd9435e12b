use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn change(key: FlagKey, on: bool) -> FlagChange {
    FlagChange {
        key,
        on,
        targets: Vec::new(),
        text: None,
        reason: "payment provider outage".into(),
        ends_at: None,
    }
}

fn record(key: FlagKey, on: bool, ends_at: Option<&str>) -> FlagRecord {
    FlagRecord {
        key,
        on,
        targets: Vec::new(),
        text: None,
        reason: "r".into(),
        set_by: "anna".into(),
        set_at: ts("2026-12-07T10:00:00Z"),
        ends_at: ends_at.map(ts),
        version: 1,
    }
}

#[test]
fn a_change_names_what_is_wrong_and_its_bound() {
    let now = ts("2026-12-07T10:00:00Z");
    let err = |c: FlagChange| c.validate(now).unwrap_err().to_string();
    let mut c = change(FlagKey::FreezeCheckout, true);
    c.reason = "  ".into();
    assert!(err(c).starts_with("reason:"));
    let mut c = change(FlagKey::SalesPause, true);
    assert!(err(c.clone()).contains("names the countries"));
    c.targets = vec!["de".into(), "D E".into()];
    assert!(err(c).contains("\"D E\""));
    let mut c = change(FlagKey::FreezePrices, true);
    c.targets = vec!["DE".into()];
    assert!(err(c).contains("only sales-pause"));
    let c = change(FlagKey::MaintenanceBanner, true);
    assert!(err(c).starts_with("text:"));
    let mut c = change(FlagKey::FreezeCheckout, true);
    c.ends_at = Some(ts("2026-12-07T09:00:00Z"));
    assert!(err(c.clone()).contains("not in the future"));
    c.ends_at = Some(ts("2027-06-07T09:00:00Z"));
    assert!(err(c).contains("at most 90 days"));
    let mut c = change(FlagKey::SalesPause, true);
    c.targets = vec!["de".into(), "DE".into(), "eu".into()];
    assert_eq!(c.validate(now).unwrap().targets, ["DE", "EU"]);
}

#[test]
fn a_flag_past_its_end_reads_as_off() {
    let f = record(FlagKey::FreezeCheckout, true, Some("2026-12-07T12:00:00Z"));
    let ctx = EvalContext::default();
    let before = evaluate(&f.key, Some(&f), &ctx, ts("2026-12-07T11:59:59Z"));
    let after = evaluate(&f.key, Some(&f), &ctx, ts("2026-12-07T12:00:00Z"));
    assert!(
        matches!(before, Evaluation::Value { reason: Reason::Static, ref value, .. } if value == &json!(true))
    );
    assert!(
        matches!(after, Evaluation::Value { reason: Reason::Disabled, ref value, .. } if value == &json!(false))
    );
    assert!(live_flags(std::slice::from_ref(&f), ts("2026-12-07T12:00:00Z")).is_empty());
}

#[test]
fn a_sales_pause_matches_the_context_country_or_region() {
    let mut f = record(FlagKey::SalesPause, true, None);
    f.targets = vec!["DE".into(), "UAE".into()];
    let now = ts("2026-12-07T11:00:00Z");
    let eval = |country: Option<&str>, region: Option<&str>| {
        evaluate(
            &FlagKey::SalesPause,
            Some(&f),
            &EvalContext {
                targeting_key: Some("visitor-1".into()),
                country: country.map(String::from),
                region: region.map(String::from),
            },
            now,
        )
    };
    assert!(
        matches!(eval(Some("de"), None), Evaluation::Value { reason: Reason::TargetingMatch, ref value, .. } if value == &json!(true))
    );
    assert!(matches!(
        eval(Some("FR"), Some("uae")),
        Evaluation::Value {
            reason: Reason::TargetingMatch,
            ..
        }
    ));
    assert!(
        matches!(eval(Some("FR"), Some("EU")), Evaluation::Value { reason: Reason::Static, ref value, .. } if value == &json!(false))
    );
    assert!(matches!(
        eval(None, None),
        Evaluation::InvalidContext { .. }
    ));
}

#[test]
fn the_banner_answers_its_text_and_mirrors_as_json() {
    let mut f = record(FlagKey::MaintenanceBanner, true, None);
    f.text = Some("Back at 14:00".into());
    let now = ts("2026-12-07T11:00:00Z");
    let e = evaluate(&f.key, Some(&f), &EvalContext::default(), now);
    assert!(
        matches!(e, Evaluation::Value { ref value, variant: "on", .. } if value == &json!("Back at 14:00"))
    );
    let m = metafield_value(&f, now);
    assert_eq!(m["key"], "maintenance_banner");
    assert_eq!(m["type"], "json");
    let v: Value = serde_json::from_str(m["value"].as_str().unwrap()).unwrap();
    assert_eq!(v, json!({ "on": true, "text": "Back at 14:00" }));
    let freeze = record(FlagKey::FreezeCheckout, true, None);
    assert_eq!(metafield_value(&freeze, now)["value"], "true");
}
