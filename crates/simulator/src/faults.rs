//! Injected failures, so clients are tested against what real networks and
//! real Shopify do: 429 storms, 5xx, slow answers, dropped connections and
//! truncated bodies. Each decision depends only on the fault seed and the
//! request counter, so a test sees the same sequence every run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rates are probabilities per request (0.0–1.0); `Faults::default()` injects nothing.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// 429 with `Retry-After` even when the leaky bucket has room.
    pub http_429_rate: f64,
    /// 500, 502 or 503.
    pub http_5xx_rate: f64,
    /// Answer after `slow_ms` (independent of the other faults).
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Close the connection without a complete response.
    pub reset_rate: f64,
    /// A 200 whose JSON body is cut in the middle.
    pub truncated_rate: f64,
    /// A 200 that sends the start of its body and then hangs, never ending
    /// it (the connection stays open).
    pub hang_rate: f64,
    /// A 200 that streams [`HUGE_BODY_BYTES`] without `Content-Length`.
    pub huge_body_rate: f64,
    /// Webhooks: probability that a delivery is sent twice (same webhook id).
    pub webhook_duplicate_rate: f64,
    /// Webhooks: send the deliveries of one `advance_to` in shuffled order.
    pub webhook_reorder: bool,
    /// Bulk operations created while this is set fail (FAILED,
    /// `INTERNAL_SERVER_ERROR`) after producing this many objects, which
    /// are served at `partialDataUrl`.
    pub bulk_fail_after_objects: Option<u64>,
    pub seed: u64,
}

/// What a huge-body fault streams: 10 MB, past any sane page.
pub const HUGE_BODY_BYTES: usize = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    TooManyRequests,
    ServerError(u16),
    Reset,
    Truncated,
    Hang,
    HugeBody,
}

/// What happens to request number `counter`: an optional fault and whether it is slow.
pub(crate) fn decide(faults: &Faults, counter: u64) -> (Option<Fault>, bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(
        crate::rhythm::mix(faults.seed) ^ counter.wrapping_mul(0x9E37_79B9),
    );
    let draw: f64 = rng.gen();
    let slow = rng.gen::<f64>() < faults.slow_rate;
    let server_error = [500, 502, 503][rng.gen_range(0..3)];
    let candidates = [
        (faults.http_429_rate, Fault::TooManyRequests),
        (faults.http_5xx_rate, Fault::ServerError(server_error)),
        (faults.reset_rate, Fault::Reset),
        (faults.truncated_rate, Fault::Truncated),
        (faults.hang_rate, Fault::Hang),
        (faults.huge_body_rate, Fault::HugeBody),
    ];
    let mut threshold = 0.0;
    let mut fault = None;
    for (rate, candidate) in candidates {
        threshold += rate;
        if draw < threshold {
            fault = Some(candidate);
            break;
        }
    }
    (fault, slow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_by_default_and_rates_are_roughly_honoured() {
        let none = Faults::default();
        assert!((0..1000).all(|c| decide(&none, c) == (None, false)));
        let some = Faults {
            http_5xx_rate: 0.2,
            reset_rate: 0.1,
            seed: 7,
            ..Faults::default()
        };
        let errors = (0..1000)
            .filter(|&c| matches!(decide(&some, c).0, Some(Fault::ServerError(_))))
            .count();
        let resets = (0..1000)
            .filter(|&c| decide(&some, c).0 == Some(Fault::Reset))
            .count();
        assert!((150..250).contains(&errors), "{errors}");
        assert!((60..140).contains(&resets), "{resets}");
        assert_eq!(decide(&some, 5), decide(&some, 5));
    }
}
