//! Reports as documents. An export of a panel, a scheduled daily report and
//! the daily digest are all a [`Report`]: sections of headline facts,
//! typed tables and charts, plus the gaps a section could not fill (data
//! opsdeck does not have, records it left out). Builders fill a `Report`
//! from the metrics the dashboard already computes; renderers turn the same
//! `Report` into a file, so a number reads the same in CSV, XLSX and PDF.
//!
//! Money is a typed cell ([`Cell::Money`]), never a pre-formatted string:
//! [`Report::without_money`] removes it for a role without revenue
//! permission in one place, whatever the format.
//!
//! # Layout
//! - [`document`]: the model ([`Report`], [`Section`], [`Table`], [`Cell`],
//!   [`Chart`], [`Gap`]) and the rules every renderer shares (emptiness,
//!   hiding money).
//! - [`csv`]: the one CSV cell writer every CSV export uses (formula
//!   defusing, quoting) and a `Report` as CSV.
//! - [`digest`]: the daily digest (open incidents, SLA breaches, privacy
//!   requests due, yesterday's orders) from the dashboard's own numbers.
//! - [`playbook`]: the playbook's daily, weekly and monthly reports, each
//!   section from a dashboard panel or a gap saying what data is missing.
//! - [`subscription`]: a subscription (report, schedule, channels,
//!   recipients, brands, sections, audience, owner).
//! - [`runner`]: the one step that runs due subscriptions
//!   ([`runner::ReportRunner::run_due_once`]) and records each run.
//! - [`schedule`]: when a subscription runs (daily, weekly, monthly, cron)
//!   in its IANA zone, with one rule for the hours DST skips or repeats.
//! - [`xlsx`]: a `Report` as an XLSX workbook (constant memory, typed
//!   cells, one sheet per section).
//! - [`render`]: the file [`Format`]s and one [`render::Renderer`] over
//!   them that streams long tables row by row.
//! - [`sections`]: one builder per exportable panel, from the panel's own
//!   values.

pub mod csv;
pub mod digest;
pub mod document;
pub mod playbook;
pub mod render;
pub mod runner;
pub mod schedule;
pub mod sections;
pub mod subscription;
pub mod xlsx;

pub use document::{
    Cell, Chart, ChartKind, ChartSeries, Column, ColumnKind, Fact, Gap, Report, Section, Table,
};
pub use render::Format;
pub use sections::SectionId;
