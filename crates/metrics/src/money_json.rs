//! The JSON shape of an amount of money: `{"minor": 1234567, "currency":
//! "USD", "display": "$12,345.67"}`, and who gets to see it.
//!
//! `minor` is exact (integer minor units, never a float) for clients that
//! compute; `display` is the form a person reads, formatted once here so every
//! client shows the same text. Used through `#[serde(serialize_with)]` so the
//! Rust types keep a real [`Money`].
//!
//! # Who sees amounts
//! Money is serialized for people only while [`shown`] is true: inside
//! [`with_shown`] (a synchronous render) or [`ShownWhile`] (a request's
//! future; the web's guard runs every handler inside one, set from the
//! viewer's revenue permission). Anywhere else an amount serializes as
//! `null`, so a new view, page or endpoint shows no money until someone
//! decided who sees it. [`Guarded`] hides any value the same way (a
//! formatted amount, a card of revenue figures).

use opsdeck_domain::{Currency, Money};
use serde::{Serialize, Serializer};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// Whether amounts are shown on this thread right now (see the module
    /// documentation). Off unless a scope turned it on.
    static SHOWN: Cell<bool> = const { Cell::new(false) };
}

/// Whether money serializes with its amount here and now.
pub fn shown() -> bool {
    SHOWN.with(Cell::get)
}

/// Restores the previous setting when dropped, also on a panic.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        SHOWN.with(|c| c.set(self.0));
    }
}

fn set(shown: bool) -> Restore {
    Restore(SHOWN.with(|c| c.replace(shown)))
}

/// Runs `work` (e.g. one render or one `serde_json::to_string`) with
/// amounts shown or hidden.
pub fn with_shown<R>(shown: bool, work: impl FnOnce() -> R) -> R {
    let _restore = set(shown);
    work()
}

/// A future that runs with amounts shown or hidden at each poll, so
/// everything it serializes synchronously (a page render, a JSON body)
/// follows the viewer's permission. Built by [`shown_while`].
pub struct ShownWhile<F> {
    shown: bool,
    inner: Pin<Box<F>>,
}

/// Runs `work` (a request's handler) with amounts shown or hidden.
pub fn shown_while<F: Future>(shown: bool, work: F) -> ShownWhile<F> {
    ShownWhile {
        shown,
        inner: Box::pin(work),
    }
}

impl<F: Future> Future for ShownWhile<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _restore = set(self.shown);
        self.inner.as_mut().poll(cx)
    }
}

/// A value that serializes as itself where amounts are shown and as `null`
/// elsewhere: a formatted amount, a card of revenue figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guarded<T>(pub T);

impl<T: Serialize> Serialize for Guarded<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if shown() {
            self.0.serialize(s)
        } else {
            s.serialize_none()
        }
    }
}

#[derive(Serialize)]
struct MoneyJson {
    minor: i64,
    currency: Currency,
    display: String,
}

impl From<&Money> for MoneyJson {
    fn from(m: &Money) -> Self {
        MoneyJson {
            minor: m.minor,
            currency: m.currency,
            display: m.display(),
        }
    }
}

/// Serializes a [`Money`] as `{minor, currency, display}`, or `null` where
/// amounts are not shown.
pub fn serialize<S: Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    Guarded(MoneyJson::from(money)).serialize(s)
}

/// Serializes an `Option<Money>` as `{minor, currency, display}` or `null`
/// (also where amounts are not shown).
pub fn serialize_option<S: Serializer>(money: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    Guarded(money.as_ref().map(MoneyJson::from)).serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Card {
        #[serde(serialize_with = "serialize")]
        revenue: Money,
        #[serde(serialize_with = "serialize_option")]
        aov: Option<Money>,
    }

    #[test]
    fn money_carries_exact_and_display_forms() {
        let card = Card {
            revenue: Money::new(1_234_567, Currency::USD),
            aov: None,
        };
        assert_eq!(
            with_shown(true, || serde_json::to_value(&card)).unwrap(),
            serde_json::json!({
                "revenue": {"minor": 1234567, "currency": "USD", "display": "$12,345.67"},
                "aov": null
            })
        );
    }

    #[test]
    fn amounts_are_null_unless_a_scope_shows_them() {
        let card = Card {
            revenue: Money::new(41_234, Currency::USD),
            aov: Some(Money::new(41_234, Currency::USD)),
        };
        let hidden = serde_json::json!({"revenue": null, "aov": null});
        assert_eq!(serde_json::to_value(&card).unwrap(), hidden);
        assert_eq!(
            with_shown(false, || serde_json::to_value(&card)).unwrap(),
            hidden
        );
        // The scope ends with the call: nothing leaks to the next render.
        assert!(with_shown(true, shown));
        assert!(!shown());
    }

    #[test]
    fn guarded_values_follow_the_scope() {
        let value = Guarded("$412.34");
        let shown_json = with_shown(true, || serde_json::to_string(&value));
        assert_eq!(shown_json.unwrap(), r#""$412.34""#);
        assert_eq!(serde_json::to_string(&value).unwrap(), "null");
    }

    #[tokio::test]
    async fn a_future_shows_amounts_at_every_poll_and_only_there() {
        let work = async {
            let before = shown();
            tokio::task::yield_now().await;
            (before, shown())
        };
        assert_eq!(shown_while(true, work).await, (true, true));
        assert!(!shown());
        assert!(!shown_while(false, async { shown() }).await);
    }
}
