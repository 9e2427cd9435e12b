//! Numbers in words for the pages: hours as "3.5 h" or "2 d", shares as
//! "12 %", missing values as a dash.

use crate::view::NO_VALUE;

/// "45 min", "3.5 h", "2.1 d"; a dash for none.
pub(crate) fn hours(h: Option<f64>) -> String {
    match h {
        None => NO_VALUE.to_string(),
        Some(h) if h < 1.0 => format!("{:.0} min", h * 60.0),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} d", h / 24.0),
    }
}

/// A ratio as a whole percent, "12 %"; a dash for none.
pub(crate) fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| NO_VALUE.to_string(), |r| format!("{:.0} %", r * 100.0))
}

/// A signed change, "+12 %" / "−3 %"; a dash for none.
pub(crate) fn change(r: Option<f64>) -> String {
    match r {
        None => NO_VALUE.to_string(),
        Some(r) if r < 0.0 => format!("−{:.0} %", -r * 100.0),
        Some(r) => format!("+{:.0} %", r * 100.0),
    }
}

/// Days with one decimal, or a dash.
pub(crate) fn days(d: Option<f64>) -> String {
    d.map_or_else(|| NO_VALUE.to_string(), |d| format!("{d:.1} d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_numbers() {
        assert_eq!(hours(Some(0.75)), "45 min");
        assert_eq!(hours(Some(3.5)), "3.5 h");
        assert_eq!(hours(Some(60.0)), "2.5 d");
        assert_eq!(hours(None), "—");
        assert_eq!(percent(Some(0.123)), "12 %");
        assert_eq!(change(Some(-0.031)), "−3 %");
        assert_eq!(change(Some(0.2)), "+20 %");
        assert_eq!(days(Some(4.04)), "4.0 d");
    }
}
