//! Reading one record of the wire format field by field, collecting *every*
//! problem with its path instead of stopping at the first.
//!
//! serde's derive stops at the first bad field and names it by Rust type;
//! a merchant fixing a 1,000-record batch wants all of them, named by the
//! field they sent (`line_items[2].price.amount`). Every getter marks its key
//! as known, so [`Obj::finish`] can also report fields nobody asked for —
//! usually a typo of an optional field that would otherwise vanish silently.

use opsdeck_domain::bounds::{self, excerpt};
use opsdeck_domain::{Currency, Money, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashSet;

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path inside the record, e.g. `line_items[0].price.amount`; empty for
    /// the record itself.
    pub field: String,
    pub reason: String,
}

/// Where the problems of one record are collected.
#[derive(Debug, Default)]
pub struct Problems(RefCell<Vec<FieldError>>);

impl Problems {
    pub fn add(&self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.borrow_mut().push(FieldError {
            field: field.into(),
            reason: reason.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0.into_inner()
    }
}

/// What a JSON value is, in the words an error message uses.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON object being read, with its path for error messages.
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    problems: &'a Problems,
    seen: RefCell<HashSet<&'a str>>,
}

impl<'a> Obj<'a> {
    /// Reads `value` as an object; `None` (and a problem) when it is not one.
    pub fn new(value: &'a Value, path: String, problems: &'a Problems) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Obj {
                map,
                path,
                problems,
                seen: RefCell::new(HashSet::new()),
            }),
            other => {
                problems.add(
                    path,
                    format!("expected an object, got {}", type_name(other)),
                );
                None
            }
        }
    }

    /// The path of `key` inside this object.
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn problem(&self, key: &str, reason: impl Into<String>) {
        self.problems.add(self.path_of(key), reason);
    }

    /// The value of `key`, `None` when absent or null; marks it known.
    pub fn raw(&self, key: &'a str) -> Option<&'a Value> {
        self.seen.borrow_mut().insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &'a str) -> Option<&'a Value> {
        let v = self.raw(key);
        if v.is_none() {
            self.problem(key, "missing (required)");
        }
        v
    }

    fn expect_str(&self, key: &str, v: &'a Value) -> Option<&'a str> {
        match v {
            Value::String(s) => Some(s),
            other => {
                self.problem(key, format!("expected a string, got {}", type_name(other)));
                None
            }
        }
    }

    /// A required, non-empty string.
    pub fn string(&self, key: &'a str) -> Option<String> {
        let s = self.expect_str(key, self.required(key)?)?;
        if s.trim().is_empty() {
            self.problem(key, "must not be empty");
            return None;
        }
        Some(s.to_string())
    }

    /// An optional string; an empty one counts as absent.
    pub fn opt_string(&self, key: &'a str) -> Option<String> {
        let s = self.expect_str(key, self.raw(key)?)?;
        (!s.is_empty()).then(|| s.to_string())
    }

    fn expect_int(&self, key: &str, v: &Value) -> Option<i64> {
        match v.as_i64() {
            Some(i) => Some(i),
            None if v.is_number() => {
                self.problem(key, format!("expected a whole number, got {v}"));
                None
            }
            None => {
                self.problem(key, format!("expected a number, got {}", type_name(v)));
                None
            }
        }
    }

    pub fn int(&self, key: &'a str) -> Option<i64> {
        self.expect_int(key, self.required(key)?)
    }

    pub fn opt_int(&self, key: &'a str) -> Option<i64> {
        self.expect_int(key, self.raw(key)?)
    }

    /// A boolean, `default` when absent.
    pub fn bool_or(&self, key: &'a str, default: bool) -> bool {
        match self.raw(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(
                    key,
                    format!("expected true or false, got {}", type_name(other)),
                );
                default
            }
        }
    }

    /// Parsed and bounded by [`bounds::timestamp`]: an offset within
    /// −12:00..+14:00 and a year within the accepted window.
    fn expect_ts(&self, key: &str, v: &'a Value) -> Option<Timestamp> {
        let s = self.expect_str(key, v)?;
        match bounds::timestamp(s) {
            Ok(ts) => Some(ts),
            Err(e) => {
                self.problem(key, e.to_string());
                None
            }
        }
    }

    /// A required RFC 3339 timestamp with an offset.
    pub fn timestamp(&self, key: &'a str) -> Option<Timestamp> {
        self.expect_ts(key, self.required(key)?)
    }

    pub fn opt_timestamp(&self, key: &'a str) -> Option<Timestamp> {
        self.expect_ts(key, self.raw(key)?)
    }

    /// An optional calendar date, `YYYY-MM-DD`.
    pub fn opt_date(&self, key: &'a str) -> Option<jiff::civil::Date> {
        let s = self.expect_str(key, self.raw(key)?)?;
        match s.parse::<jiff::civil::Date>() {
            Ok(d) if s.len() == 10 => match bounds::date(d) {
                Ok(()) => Some(d),
                Err(e) => {
                    self.problem(key, e.to_string());
                    None
                }
            },
            _ => {
                self.problem(key, format!("{:?} is not a date (YYYY-MM-DD)", excerpt(s)));
                None
            }
        }
    }

    /// A platform enum that keeps unknown values: any non-empty string.
    pub fn open_enum<T: std::str::FromStr>(&self, key: &'a str) -> Option<T> {
        self.string(key)?.parse().ok()
    }

    pub fn opt_open_enum<T: std::str::FromStr>(&self, key: &'a str) -> Option<T> {
        self.opt_string(key)?.parse().ok()
    }

    /// An optional open enum, `default` when absent.
    pub fn open_enum_or<T: std::str::FromStr>(&self, key: &'a str, default: T) -> T {
        self.opt_open_enum(key).unwrap_or(default)
    }

    /// A string that must be one of `allowed`.
    pub fn one_of(&self, key: &'a str, allowed: &[&str]) -> Option<String> {
        let s = self.string(key)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.problem(
                key,
                format!("{:?} is not one of {}", excerpt(&s), allowed.join(", ")),
            );
            None
        }
    }

    /// A list of strings; empty when absent.
    pub fn strings(&self, key: &'a str) -> Vec<String> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let Value::Array(items) = v else {
            self.problem(
                key,
                format!("expected an array of strings, got {}", type_name(v)),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                other => self.problems.add(
                    format!("{}[{i}]", self.path_of(key)),
                    format!("expected a string, got {}", type_name(other)),
                ),
            }
        }
        out
    }

    /// A nested object, required.
    pub fn obj(&self, key: &'a str) -> Option<Obj<'a>> {
        let v = self.required(key)?;
        Obj::new(v, self.path_of(key), self.problems)
    }

    pub fn opt_obj(&self, key: &'a str) -> Option<Obj<'a>> {
        Obj::new(self.raw(key)?, self.path_of(key), self.problems)
    }

    /// Each object of an array (empty when absent), read by `each`; elements
    /// that fail are left out and their problems recorded.
    pub fn list<T>(&self, key: &'a str, mut each: impl FnMut(&Obj<'a>) -> Option<T>) -> Vec<T> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let Value::Array(items) = v else {
            self.problem(key, format!("expected an array, got {}", type_name(v)));
            return Vec::new();
        };
        let base = self.path_of(key);
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let obj = Obj::new(item, format!("{base}[{i}]"), self.problems)?;
                let value = each(&obj);
                obj.finish();
                value
            })
            .collect()
    }

    /// `{"amount": "12.50", "currency": "USD"}`, parsed exactly. When
    /// `expected` is given the currency must be it.
    pub fn money(&self, key: &'a str, expected: Option<Currency>) -> Option<Money> {
        let obj = self.obj(key)?;
        let money = obj.money_fields(expected);
        obj.finish();
        money
    }

    pub fn opt_money(&self, key: &'a str, expected: Option<Currency>) -> Option<Money> {
        let obj = self.opt_obj(key)?;
        let money = obj.money_fields(expected);
        obj.finish();
        money
    }

    fn money_fields(&self, expected: Option<Currency>) -> Option<Money> {
        let currency = self.string("currency").and_then(|code| {
            let parsed = Currency::parse(&code)
                .ok()
                .filter(|_| code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()));
            if parsed.is_none() {
                self.problem(
                    "currency",
                    format!(
                        "{:?} is not an ISO 4217 code (three capital letters, e.g. USD)",
                        excerpt(&code)
                    ),
                );
            }
            parsed
        });
        let amount = match self.required("amount") {
            Some(Value::String(s)) => Some(s.as_str()),
            Some(Value::Number(n)) => {
                self.problem(
                    "amount",
                    format!("expected a decimal string such as \"{n}\", got a number (numbers lose cents)"),
                );
                None
            }
            Some(other) => {
                self.problem(
                    "amount",
                    format!("expected a decimal string, got {}", type_name(other)),
                );
                None
            }
            None => None,
        };
        let currency = currency?;
        if let Some(expected) = expected.filter(|e| *e != currency) {
            self.problem(
                "currency",
                format!("{currency} differs from the expected {expected}"),
            );
            return None;
        }
        match Money::parse(amount?, currency) {
            Ok(m) => Some(m),
            Err(e) => {
                self.problem("amount", e.to_string());
                None
            }
        }
    }

    /// Reports every field that no getter asked for.
    pub fn finish(&self) {
        let seen = self.seen.borrow();
        let mut unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !seen.contains(k.as_str()))
            .collect();
        unknown.sort();
        for key in unknown {
            // A hostile key can be megabytes long: name it by an excerpt.
            self.problem(&excerpt(key), "unknown field");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_is_collected_with_its_path() {
        let v = json!({
            "name": 5,
            "total": {"amount": 12.5, "currency": "usd"},
            "items": [{"qty": "2"}, {"qty": 1.5}],
            "when": "2026-06-01 10:00",
            "colour": "red"
        });
        let problems = Problems::default();
        let obj = Obj::new(&v, String::new(), &problems).unwrap();
        assert_eq!(obj.string("name"), None);
        assert_eq!(obj.money("total", None), None);
        assert!(obj.list("items", |i| i.int("qty")).is_empty());
        assert_eq!(obj.timestamp("when"), None);
        assert_eq!(obj.string("missing"), None);
        obj.finish();
        let fields: Vec<String> = problems.into_vec().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "total.currency",
                "total.amount",
                "items[0].qty",
                "items[1].qty",
                "when",
                "missing",
                "colour"
            ]
        );
    }

    #[test]
    fn money_is_exact_and_checks_the_currency() {
        let v = json!({"a": {"amount": "12.50", "currency": "USD"}, "b": {"amount": "1.005", "currency": "USD"}});
        let problems = Problems::default();
        let obj = Obj::new(&v, String::new(), &problems).unwrap();
        assert_eq!(
            obj.money("a", Some(Currency::USD)),
            Some(Money::new(1250, Currency::USD))
        );
        assert_eq!(obj.money("a", Some(Currency::EUR)), None);
        assert_eq!(obj.money("b", None), None);
        let problems = problems.into_vec();
        assert!(problems[0].reason.contains("differs from the expected EUR"));
        assert_eq!(problems[1].field, "b.amount");
        assert!(problems[1].reason.contains("more decimal places"));
    }
}
