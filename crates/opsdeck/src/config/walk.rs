//! A reader over a parsed TOML document that collects *every* problem with
//! its line and dotted key, instead of stopping at the first one the way a
//! serde derive does. `check-config` shows the whole list at once so a
//! merchant fixes a config file in one pass.

use std::cell::RefCell;
use std::fmt;
use std::ops::Range;
use toml_edit::{Item, TableLike, Value};

/// One thing wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    /// Dotted path of the key, e.g. `brands[2].time_zone`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Collects problems while the configuration is read.
pub struct Problems<'t> {
    text: &'t str,
    list: RefCell<Vec<ConfigProblem>>,
}

impl<'t> Problems<'t> {
    pub fn new(text: &'t str) -> Self {
        Problems {
            text,
            list: RefCell::new(Vec::new()),
        }
    }

    pub fn line_of(&self, span: Option<Range<usize>>) -> Option<usize> {
        span.map(|s| {
            self.text[..s.start.min(self.text.len())]
                .matches('\n')
                .count()
                + 1
        })
    }

    pub fn push(&self, span: Option<Range<usize>>, key: &str, message: impl Into<String>) {
        self.list.borrow_mut().push(ConfigProblem {
            line: self.line_of(span),
            key: key.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.borrow().is_empty()
    }

    pub fn into_vec(self) -> Vec<ConfigProblem> {
        let mut list = self.list.into_inner();
        list.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        list
    }
}

/// A view of one table with its dotted path, remembering which keys were read
/// so that [`Section::finish`] can report every key nobody asked for.
pub struct Section<'a, 't> {
    pub path: String,
    table: &'a dyn TableLike,
    span: Option<Range<usize>>,
    problems: &'a Problems<'t>,
    read: RefCell<Vec<&'static str>>,
}

/// Human name of a TOML value's type, for "expected a string, found an integer".
fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

impl<'a, 't> Section<'a, 't> {
    pub fn root(table: &'a dyn TableLike, problems: &'a Problems<'t>) -> Self {
        Section {
            path: String::new(),
            table,
            span: None,
            problems,
            read: RefCell::new(Vec::new()),
        }
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn item(&self, key: &'static str) -> Option<&'a Item> {
        self.read.borrow_mut().push(key);
        self.table.get(key)
    }

    pub fn has_key(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    /// Span of a key's value (or of the key itself when the value has none).
    pub fn span_of(&self, key: &str) -> Option<Range<usize>> {
        self.table
            .get_key_value(key)
            .and_then(|(k, item)| item.span().or_else(|| k.span()))
            .or_else(|| self.span.clone())
    }

    /// Reports a problem with `key` of this section.
    pub fn problem(&self, key: &str, message: impl Into<String>) {
        self.problems
            .push(self.span_of(key), &self.key_path(key), message);
    }

    /// Reports a problem with this whole section (e.g. a missing key).
    pub fn section_problem(&self, key: &str, message: impl Into<String>) {
        self.problems
            .push(self.span.clone(), &self.key_path(key), message);
    }

    fn wrong_type(&self, key: &str, item: &Item, expected: &str) {
        self.problem(
            key,
            format!("expected {expected}, found {}", type_name(item)),
        );
    }

    pub fn opt_str(&self, key: &'static str) -> Option<&'a str> {
        let item = self.item(key)?;
        match item.as_str() {
            Some(s) => Some(s),
            None => {
                self.wrong_type(key, item, "a string");
                None
            }
        }
    }

    pub fn req_str(&self, key: &'static str) -> Option<&'a str> {
        if self.table.get(key).is_none() {
            self.read.borrow_mut().push(key);
            self.section_problem(key, "is required");
            return None;
        }
        self.opt_str(key)
    }

    /// An array of strings; `None` when absent or of the wrong type
    /// (reported).
    pub fn opt_str_list(&self, key: &'static str) -> Option<Vec<&'a str>> {
        let item = self.item(key)?;
        let Some(array) = item.as_array() else {
            self.wrong_type(key, item, "an array of strings");
            return None;
        };
        let mut list = Vec::new();
        for value in array.iter() {
            match value.as_str() {
                Some(s) => list.push(s),
                None => {
                    self.problem(key, "expected an array of strings");
                    return None;
                }
            }
        }
        Some(list)
    }

    /// An array of integers; `None` when absent or of the wrong type
    /// (reported).
    pub fn opt_int_list(&self, key: &'static str) -> Option<Vec<i64>> {
        let item = self.item(key)?;
        let Some(array) = item.as_array() else {
            self.wrong_type(key, item, "an array of integers");
            return None;
        };
        let list: Option<Vec<i64>> = array.iter().map(|v| v.as_integer()).collect();
        if list.is_none() {
            self.problem(key, "expected an array of integers");
        }
        list
    }

    pub fn opt_bool(&self, key: &'static str) -> Option<bool> {
        let item = self.item(key)?;
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type(key, item, "true or false");
                None
            }
        }
    }

    pub fn opt_int(&self, key: &'static str) -> Option<i64> {
        let item = self.item(key)?;
        match item.as_integer() {
            Some(i) => Some(i),
            None => {
                self.wrong_type(key, item, "an integer");
                None
            }
        }
    }

    /// A number (integer or float).
    pub fn opt_f64(&self, key: &'static str) -> Option<f64> {
        let item = self.item(key)?;
        match (item.as_float(), item.as_integer()) {
            (Some(f), _) => Some(f),
            (None, Some(i)) => Some(i as f64),
            _ => {
                self.wrong_type(key, item, "a number");
                None
            }
        }
    }

    /// A non-negative integer that fits in `u32`.
    pub fn opt_u32(&self, key: &'static str) -> Option<u32> {
        let value = self.opt_int(key)?;
        match u32::try_from(value) {
            Ok(v) => Some(v),
            Err(_) => {
                self.problem(
                    key,
                    format!("must be between 0 and {}, found {value}", u32::MAX),
                );
                None
            }
        }
    }

    pub fn opt_table(&self, key: &'static str) -> Option<Section<'a, 't>> {
        let item = self.item(key)?;
        match item.as_table_like() {
            Some(table) => Some(Section {
                path: self.key_path(key),
                table,
                span: item.span().or_else(|| self.span_of(key)),
                problems: self.problems,
                read: RefCell::new(Vec::new()),
            }),
            None => {
                self.wrong_type(key, item, "a table");
                None
            }
        }
    }

    /// `[[key]]` entries (or an inline array of tables).
    pub fn array_of_tables(&self, key: &'static str) -> Vec<Section<'a, 't>> {
        let Some(item) = self.item(key) else {
            return Vec::new();
        };
        let path = self.key_path(key);
        let sections = |tables: Vec<(&'a dyn TableLike, Option<Range<usize>>)>| {
            tables
                .into_iter()
                .enumerate()
                .map(|(i, (table, span))| Section {
                    path: format!("{path}[{i}]"),
                    table,
                    span,
                    problems: self.problems,
                    read: RefCell::new(Vec::new()),
                })
                .collect()
        };
        if let Some(array) = item.as_array_of_tables() {
            return sections(
                array
                    .iter()
                    .map(|t| (t as &dyn TableLike, t.span()))
                    .collect(),
            );
        }
        if let Some(array) = item.as_array() {
            let mut tables = Vec::new();
            for value in array.iter() {
                match value.as_inline_table() {
                    Some(t) => tables.push((t as &dyn TableLike, value.span())),
                    None => {
                        self.problem(key, "expected an array of tables ([[...]] entries)");
                        return Vec::new();
                    }
                }
            }
            return sections(tables);
        }
        self.wrong_type(key, item, "an array of tables ([[...]] entries)");
        Vec::new()
    }

    /// Every key of this section with its value, for tables whose keys are
    /// data (e.g. currency codes); such a section needs no `finish`.
    pub fn entries(&self) -> Vec<(&'a str, &'a Item)> {
        self.table.iter().collect()
    }

    /// The table under `key`, one of [`Section::entries`] (tables whose
    /// keys are data, e.g. `[roles.NAME]`); a problem when it is no table.
    pub fn entry_table(&self, key: &str, item: &'a Item) -> Option<Section<'a, 't>> {
        match item.as_table_like() {
            Some(table) => Some(Section {
                path: self.key_path(key),
                table,
                span: item.span().or_else(|| self.span_of(key)),
                problems: self.problems,
                read: RefCell::new(Vec::new()),
            }),
            None => {
                self.wrong_type(key, item, "a table");
                None
            }
        }
    }

    /// Reports every key of this section that was never read.
    pub fn finish(&self) {
        let mut read = self.read.borrow().clone();
        read.sort_unstable();
        read.dedup();
        for (key, item) in self.table.iter() {
            if !read.contains(&key) {
                let span = self
                    .table
                    .get_key_value(key)
                    .and_then(|(k, _)| k.span())
                    .or_else(|| item.span());
                self.problems.push(
                    span,
                    &self.key_path(key),
                    format!("unknown key (known keys here: {})", read.join(", ")),
                );
            }
        }
    }
}
