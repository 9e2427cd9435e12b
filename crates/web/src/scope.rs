//! Which brands the request's person sees ([`BrandScope`], their role's
//! `brands` with regions expanded), for every read that lists brands,
//! alerts, incidents, orders, tickets or sources.
//!
//! The guard runs each handler inside [`within`] with the signed-in
//! person's scope (every brand for the public routes, which show no
//! brand's data); the reads ask [`crate::AppState::brand`] (an explicit
//! brand: 403 outside the scope, naming it), [`crate::AppState::visible_brands`]
//! (the brand pickers and "every brand") and [`sees`] (a row's brand).
//! `params::chosen_brands`, the one reading of `?brand=` and `?region=`,
//! intersects the filter with it. Outside a scope nothing is seen, so a
//! read that escaped the guard shows no brand rather than every brand.
//!
//! Like `opsdeck_metrics::money_json`, the scope is set at each poll of the
//! request's future on the polling thread, so everything the handler runs
//! synchronously (a query's filter, a render) follows it.

use opsdeck_accounts::BrandScope;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};

static NOTHING: LazyLock<Arc<BrandScope>> = LazyLock::new(|| Arc::new(BrandScope::nothing()));

thread_local! {
    static SCOPE: RefCell<Option<Arc<BrandScope>>> = const { RefCell::new(None) };
}

/// The scope of the request running on this thread; no brand outside one.
pub(crate) fn current() -> Arc<BrandScope> {
    SCOPE
        .with(|s| s.borrow().clone())
        .unwrap_or_else(|| NOTHING.clone())
}

/// Whether the request's person sees brand `id`.
pub(crate) fn sees(id: &str) -> bool {
    current().sees(id)
}

/// Restores the previous scope when dropped, also on a panic.
struct Restore(Option<Arc<BrandScope>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        SCOPE.with(|s| *s.borrow_mut() = previous);
    }
}

/// A future run with a scope at each poll; built by [`within`].
pub(crate) struct Within<F> {
    scope: Arc<BrandScope>,
    inner: Pin<Box<F>>,
}

/// Runs `work` (a request's handler) seeing the brands of `scope`.
pub(crate) fn within<F: Future>(scope: BrandScope, work: F) -> Within<F> {
    Within {
        scope: Arc::new(scope),
        inner: Box::pin(work),
    }
}

impl<F: Future> Future for Within<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let scope = self.scope.clone();
        let _restore = Restore(SCOPE.with(|s| s.borrow_mut().replace(scope)));
        self.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::BrandId;

    #[tokio::test]
    async fn a_scope_holds_inside_and_nothing_is_seen_outside() {
        assert!(!sees("mavena"), "outside a request: nothing");
        let only = BrandScope::Only(vec![BrandId::parse("mavena").unwrap()]);
        let inside = within(only, async {
            tokio::task::yield_now().await;
            (sees("mavena"), sees("kumo"))
        })
        .await;
        assert_eq!(inside, (true, false));
        assert!(within(BrandScope::Every, async { sees("kumo") }).await);
        assert!(!sees("mavena"), "restored after");
    }
}
