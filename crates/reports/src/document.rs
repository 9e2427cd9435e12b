//! The report model every builder fills and every renderer reads.
//!
//! A [`Report`] holds whole, typed values: a count is a count, money is
//! [`Money`] in minor units with its currency, a moment is a UTC
//! [`Timestamp`] shown in the report's time zone. Formatting is the
//! renderer's job, so XLSX gets numeric cells, CSV gets plain decimals and
//! PDF gets the dashboard's wording from the same value.
//!
//! The tables here are the size of a panel or a playbook section (tens to
//! thousands of rows). A row-per-record export of millions of rows streams
//! rows straight to its renderer instead of building a [`Table`].

use jiff::civil::Date;
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;

/// One document: what a download, an emailed attachment or a digest message
/// holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// "Daily report", "Fulfillment pipeline", …
    pub title: String,
    /// Scope and period in words ("All brands · 7 Dec 2026"), shown under
    /// the title.
    pub subtitle: String,
    /// When the data was read. Tests fix it so output can be compared.
    pub generated_at: Timestamp,
    /// IANA zone in which [`Cell::Time`] values and dates are shown.
    pub time_zone: String,
    pub sections: Vec<Section>,
}

/// One part of a report: a panel, or one item of a playbook's daily, weekly
/// or monthly list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Stable key (`orders_by_region`): the sheet name in XLSX, the
    /// anchor in PDF, what a subscription lists.
    pub id: String,
    pub title: String,
    /// Headline numbers, shown before the tables.
    pub facts: Vec<Fact>,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
    /// What the section could not show, and why: data opsdeck does not
    /// have, records it left out, amounts hidden from this role.
    pub gaps: Vec<Gap>,
}

/// A headline number with its label ("Orders today: 1,204").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: Cell,
}

/// Something a section does not show, in the merchant's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// What is missing ("Tax by country").
    pub what: String,
    /// Why ("opsdeck does not store tax lines"; "3 orders in JPY have no
    /// exchange rate").
    pub why: String,
}

/// A typed table: every cell of a column has the column's kind (or is
/// [`Cell::Empty`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Shown above the table when a section has more than one.
    pub title: Option<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// What a column holds: how a renderer formats it and whether it is money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    Count,
    Money,
    /// A share in percent (`12.5` is 12.5 %).
    Percent,
    /// A length of time in whole seconds.
    Duration,
    Time,
    Date,
}

/// One value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Empty,
    Text(String),
    Count(i64),
    Money(Money),
    /// Percent, as [`ColumnKind::Percent`].
    Percent(f64),
    /// Whole seconds.
    Duration(i64),
    Time(Timestamp),
    Date(Date),
}

/// A chart drawn from the same numbers as a table (PDF draws it; CSV and
/// XLSX carry its numbers as a table of their own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub title: String,
    pub kind: ChartKind,
    /// What the values are: [`ColumnKind::Money`] charts are values in
    /// major units of `currency` and are dropped by
    /// [`Report::without_money`].
    pub unit: ColumnKind,
    /// ISO code of a money chart's currency.
    pub currency: Option<String>,
    /// One label per point (a day, a brand).
    pub labels: Vec<String>,
    pub series: Vec<ChartSeries>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    Bars,
    Line,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartSeries {
    pub name: String,
    /// One value per label; `None` where there is no point.
    pub values: Vec<Option<f64>>,
}

impl Cell {
    /// Whether the cell carries nothing worth reporting (empty, or a zero
    /// count, amount, share or duration).
    pub fn is_nothing(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.is_empty(),
            Cell::Count(n) | Cell::Duration(n) => *n == 0,
            Cell::Money(m) => m.minor == 0,
            Cell::Percent(p) => *p == 0.0,
            Cell::Time(_) | Cell::Date(_) => false,
        }
    }
}

impl Section {
    /// A section with only a title, to be filled.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Section {
            id: id.into(),
            title: title.into(),
            facts: Vec::new(),
            tables: Vec::new(),
            charts: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// Nothing to report: no table rows and every fact is nothing. Gaps
    /// alone do not make a section worth sending.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.rows.is_empty())
            && self.facts.iter().all(|f| f.value.is_nothing())
    }
}

impl Report {
    /// "Skip when empty": every section is empty.
    pub fn is_empty(&self) -> bool {
        self.sections.iter().all(Section::is_empty)
    }

    /// The report a role without revenue permission may see: money columns,
    /// money facts and money charts removed, each section saying so once.
    /// The one place amounts are taken out of a report, whatever its format.
    pub fn without_money(mut self) -> Self {
        for section in &mut self.sections {
            let mut hidden = false;
            section.facts.retain(|f| {
                let money = matches!(f.value, Cell::Money(_));
                hidden |= money;
                !money
            });
            for table in &mut section.tables {
                let keep: Vec<bool> = table
                    .columns
                    .iter()
                    .map(|c| c.kind != ColumnKind::Money)
                    .collect();
                hidden |= keep.iter().any(|k| !k);
                let mut column = 0;
                table.columns.retain(|_| {
                    column += 1;
                    keep[column - 1]
                });
                for row in &mut table.rows {
                    let mut column = 0;
                    row.retain_mut(|cell| {
                        column += 1;
                        if !keep.get(column - 1).copied().unwrap_or(true) {
                            return false;
                        }
                        // A stray amount in a column of another kind is
                        // still money: emptied, so the columns stay aligned.
                        if matches!(cell, Cell::Money(_)) {
                            *cell = Cell::Empty;
                            hidden = true;
                        }
                        true
                    });
                }
            }
            section.charts.retain(|c| {
                let money = c.unit == ColumnKind::Money;
                hidden |= money;
                !money
            });
            if hidden {
                section.gaps.push(Gap {
                    what: "Amounts".to_string(),
                    why: "your role may not see revenue".to_string(),
                });
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::Currency;

    fn eur(minor: i64) -> Cell {
        Cell::Money(Money::new(minor, Currency::parse("EUR").unwrap()))
    }

    fn sample() -> Report {
        let mut section = Section::new("orders_by_region", "Orders by region");
        section.facts = vec![
            Fact {
                label: "Orders".into(),
                value: Cell::Count(12),
            },
            Fact {
                label: "Revenue".into(),
                value: eur(12_345),
            },
        ];
        section.tables.push(Table {
            title: None,
            columns: vec![
                Column {
                    name: "Region".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    name: "Revenue".into(),
                    kind: ColumnKind::Money,
                },
                Column {
                    name: "Orders".into(),
                    kind: ColumnKind::Count,
                },
            ],
            rows: vec![vec![Cell::Text("EU".into()), eur(10_000), Cell::Count(10)]],
        });
        section.charts.push(Chart {
            title: "Revenue".into(),
            kind: ChartKind::Bars,
            unit: ColumnKind::Money,
            currency: Some("EUR".into()),
            labels: vec!["EU".into()],
            series: vec![ChartSeries {
                name: "Revenue".into(),
                values: vec![Some(100.0)],
            }],
        });
        Report {
            title: "Daily report".into(),
            subtitle: "All brands".into(),
            generated_at: "2026-12-07T06:00:00Z".parse().unwrap(),
            time_zone: "Europe/Berlin".into(),
            sections: vec![section],
        }
    }

    #[test]
    fn without_money_leaves_no_amount_anywhere_and_says_so() {
        let report = sample().without_money();
        let dump = format!("{report:?}");
        assert!(!dump.contains("Money("), "{dump}");
        let section = &report.sections[0];
        assert_eq!(section.facts.len(), 1);
        assert_eq!(section.tables[0].columns.len(), 2);
        assert_eq!(
            section.tables[0].rows[0],
            vec![Cell::Text("EU".into()), Cell::Count(10)]
        );
        assert!(section.charts.is_empty());
        assert_eq!(section.gaps.len(), 1);
        assert_eq!(section.gaps[0].what, "Amounts");
    }

    #[test]
    fn a_report_of_zeros_and_gaps_is_empty() {
        let mut report = sample();
        assert!(!report.is_empty());
        let section = &mut report.sections[0];
        section.tables[0].rows.clear();
        section.facts = vec![Fact {
            label: "Orders".into(),
            value: Cell::Count(0),
        }];
        section.gaps.push(Gap {
            what: "Tax".into(),
            why: "not stored".into(),
        });
        assert!(report.is_empty());
    }
}
