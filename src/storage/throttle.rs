//! Adaptive concurrency for deletes on object stores: an AIMD limiter
//! (additive increase, multiplicative decrease) per bucket or container,
//! shared by every delete request sent to it.
//!
//! The window (requests in flight at once) starts at `storage.concurrency`.
//! A request the store throttles (see [`is_throttling`]) halves it, not
//! below 1, and is sent again after an exponential backoff with jitter; a
//! window's worth of successful requests in a row adds 1, up to the
//! configured maximum. The requests in flight when the window is halved
//! were all sent under the old window, so their throttled answers count
//! (in [`Throttling::responses`]) but halve nothing more: one decrease per
//! round of requests, as TCP does. A request still throttled after
//! [`TRIES`] tries fails (its files get the store's error); other temporary
//! errors (500, 502, 504, a dropped connection) are tried again as often
//! without touching the window.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use opendal::ErrorKind;
use tokio::sync::Notify;

/// Tries of one request while the store throttles it (or answers with
/// another temporary error), the first one included.
pub(crate) const TRIES: u32 = 6;

/// The first backoff; each next one is twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the throttling of deletes came to, over one or more stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Throttling {
    /// The window when the deletes ended (the smallest over the stores);
    /// `None` when no delete request was sent to an object store.
    pub final_window: Option<usize>,
    /// The smallest window deletes were held to.
    pub lowest_window: Option<usize>,
    /// The configured window (`storage.concurrency`), the largest.
    pub max_window: Option<usize>,
    /// Throttling answers received (503 `SlowDown`, 429, Azure
    /// `ServerBusy`, …), each one followed by a backoff.
    pub responses: u64,
}

impl Throttling {
    /// Both together: answers added, the smallest windows, the largest maximum.
    pub fn merge(self, other: Throttling) -> Throttling {
        fn pick(a: Option<usize>, b: Option<usize>, f: fn(usize, usize) -> usize) -> Option<usize> {
            match (a, b) {
                (Some(a), Some(b)) => Some(f(a, b)),
                (a, b) => a.or(b),
            }
        }
        Throttling {
            final_window: pick(self.final_window, other.final_window, usize::min),
            lowest_window: pick(self.lowest_window, other.lowest_window, usize::min),
            max_window: pick(self.max_window, other.max_window, usize::max),
            responses: self.responses + other.responses,
        }
    }

    /// What happened after `before` was taken: the answers received since
    /// (the windows are the latest ones).
    pub fn since(self, before: Throttling) -> Throttling {
        Throttling {
            responses: self.responses.saturating_sub(before.responses),
            ..self
        }
    }
}

/// The limiter's numbers, apart from waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    max: usize,
    size: usize,
    in_flight: usize,
    /// Successes since the window last changed.
    successes: usize,
    /// How many times the window was halved: a throttled request sent
    /// before the last halving halves nothing more.
    epoch: u64,
    throttled: u64,
    lowest: usize,
    /// Whether any request was sent.
    used: bool,
}

impl Window {
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            size: max,
            in_flight: 0,
            successes: 0,
            epoch: 0,
            throttled: 0,
            lowest: max,
            used: false,
        }
    }

    /// A request sent under `epoch` was throttled.
    pub(crate) fn throttled(&mut self, epoch: u64) {
        self.throttled += 1;
        if epoch == self.epoch {
            self.size = (self.size / 2).max(1);
            self.lowest = self.lowest.min(self.size);
            self.epoch += 1;
            self.successes = 0;
        }
    }

    /// A request succeeded.
    pub(crate) fn succeeded(&mut self) {
        self.successes += 1;
        if self.successes >= self.size {
            self.successes = 0;
            self.size = (self.size + 1).min(self.max);
        }
    }

    fn report(&self) -> Throttling {
        Throttling {
            final_window: self.used.then_some(self.size),
            lowest_window: self.used.then_some(self.lowest),
            max_window: self.used.then_some(self.max),
            responses: self.throttled,
        }
    }
}

/// One store's limiter.
#[derive(Debug)]
pub(crate) struct Limiter {
    window: Mutex<Window>,
    freed: Notify,
}

/// How one try of a request ended, for the window.
enum Outcome {
    Succeeded,
    Throttled,
    /// Failed otherwise, or timed out: the window stays as it is.
    Other,
}

/// A place in the window, given back when dropped.
struct Permit<'a> {
    limiter: &'a Limiter,
    epoch: u64,
}

impl Permit<'_> {
    fn done(self, outcome: Outcome) {
        let mut w = self.limiter.lock();
        match outcome {
            Outcome::Succeeded => w.succeeded(),
            Outcome::Throttled => w.throttled(self.epoch),
            Outcome::Other => {}
        }
        // The place itself is given back by `drop`.
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.lock().in_flight -= 1;
        self.limiter.freed.notify_waiters();
    }
}

impl Limiter {
    /// A window of `max` requests.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            window: Mutex::new(Window::new(max)),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What happened so far.
    pub(crate) fn report(&self) -> Throttling {
        self.lock().report()
    }

    async fn acquire(&self) -> Permit<'_> {
        loop {
            // Made before looking: a place freed in between still wakes it.
            let freed = self.freed.notified();
            {
                let mut w = self.lock();
                if w.in_flight < w.size {
                    w.in_flight += 1;
                    w.used = true;
                    return Permit {
                        limiter: self,
                        epoch: w.epoch,
                    };
                }
            }
            freed.await;
        }
    }

    /// Sends `request` within the window, each try bounded by `timeout`:
    /// again after a backoff while the store throttles it or answers with
    /// another temporary error, at most [`TRIES`] times. `Err(())` when a
    /// try timed out (not tried again: it may still be under way).
    pub(crate) async fn send<T, Fut>(
        &self,
        timeout: Duration,
        mut request: impl FnMut() -> Fut,
    ) -> Result<opendal::Result<T>, ()>
    where
        Fut: Future<Output = opendal::Result<T>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            let permit = self.acquire().await;
            let Ok(r) = tokio::time::timeout(timeout, request()).await else {
                permit.done(Outcome::Other);
                return Err(());
            };
            match r {
                Ok(v) => {
                    permit.done(Outcome::Succeeded);
                    return Ok(Ok(v));
                }
                Err(e) => {
                    let throttled = is_throttling(&e);
                    permit.done(if throttled {
                        Outcome::Throttled
                    } else {
                        Outcome::Other
                    });
                    if tries >= TRIES || !(throttled || e.is_temporary()) {
                        return Ok(Err(e));
                    }
                }
            }
            // Outside the window: others may go meanwhile.
            tokio::time::sleep(backoff(tries)).await;
        }
    }
}

/// The wait after the `n`th try (from 1): the exponential delay's upper
/// half, the lower half at random.
pub(crate) fn backoff(n: u32) -> Duration {
    let d = FIRST_BACKOFF
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let half = d / 2;
    half + Duration::from_nanos(random % (half.as_nanos() as u64).max(1))
}

/// Whether the store asks to slow down: OpenDAL's `RateLimited` (429 on
/// every store, S3 and OSS `SlowDown`, Azure's snapshot rate), any 503
/// (S3 and OSS `SlowDown`/`ServiceUnavailable`, GCS, Azure `ServerBusy`),
/// and Azure's `500 OperationTimedOut`. OpenDAL keeps the HTTP status only
/// in the error's text (`status: 503` in the response context).
pub(crate) fn is_throttling(e: &opendal::Error) -> bool {
    if e.kind() == ErrorKind::RateLimited {
        return true;
    }
    let text = e.to_string();
    text.contains("status: 503")
        || (text.contains("status: 500") && text.contains("OperationTimedOut"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_down_to_one_and_grows_back_by_one_a_window() {
        let mut w = Window::new(8);
        assert_eq!(w.size, 8);
        // Throttled under the current epoch: halved each time, never below 1.
        for want in [4, 2, 1, 1] {
            w.throttled(w.epoch);
            assert_eq!(w.size, want);
        }
        assert_eq!(w.report().lowest_window, None, "no request sent yet");
        // Sent before the last halving: counted, nothing halved.
        let old = w.epoch - 1;
        let mut w2 = Window::new(8);
        w2.throttled(0);
        w2.throttled(0);
        assert_eq!((w2.size, w2.throttled), (4, 2));
        w.throttled(old);
        assert_eq!((w.size, w.throttled), (1, 5));
        // A window's worth of successes adds one.
        w.succeeded();
        assert_eq!(w.size, 2);
        w.succeeded();
        assert_eq!(w.size, 2);
        w.succeeded();
        assert_eq!(w.size, 3);
        for _ in 0..3 {
            w.succeeded();
        }
        assert_eq!(w.size, 4);
        // Never above the maximum.
        for _ in 0..100 {
            w.succeeded();
        }
        assert_eq!(w.size, 8);
        // A maximum of 0 is 1.
        let mut one = Window::new(0);
        one.throttled(0);
        one.succeeded();
        assert_eq!(one.size, 1);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for n in 1..=20 {
            let full = FIRST_BACKOFF
                .saturating_mul(1 << (n - 1).min(16))
                .min(MAX_BACKOFF);
            let b = backoff(n);
            assert!(b >= full / 2 && b <= full, "{n}: {b:?} of {full:?}");
        }
        assert!(backoff(40) <= MAX_BACKOFF);
    }

    #[test]
    fn reports_merge_over_stores() {
        let a = Throttling {
            final_window: Some(4),
            lowest_window: Some(2),
            max_window: Some(8),
            responses: 3,
        };
        let b = Throttling {
            final_window: Some(6),
            lowest_window: Some(6),
            max_window: Some(6),
            responses: 0,
        };
        let m = a.merge(b).merge(Throttling::default());
        assert_eq!(
            m,
            Throttling {
                final_window: Some(4),
                lowest_window: Some(2),
                max_window: Some(8),
                responses: 3,
            }
        );
        assert_eq!(m.since(a).responses, 0);
    }

    fn throttled_error(text: &str) -> opendal::Error {
        opendal::Error::new(ErrorKind::Unexpected, "x").with_context("response", text)
    }

    #[test]
    fn recognises_throttling_answers() {
        assert!(is_throttling(&opendal::Error::new(
            ErrorKind::RateLimited,
            "SlowDown"
        )));
        assert!(is_throttling(&throttled_error(
            "Parts { status: 503, version: HTTP/1.1 }"
        )));
        let azure = throttled_error("Parts { status: 500, version: HTTP/1.1 }")
            .with_context("code", "OperationTimedOut");
        assert!(is_throttling(&azure));
        assert!(!is_throttling(&throttled_error(
            "Parts { status: 500, version: HTTP/1.1 }"
        )));
        assert!(!is_throttling(&opendal::Error::new(
            ErrorKind::PermissionDenied,
            "AccessDenied"
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_request_is_sent_again_and_gives_up_after_the_last_try() {
        let l = Limiter::new(4);
        let mut sent = 0;
        let r = l
            .send(Duration::from_secs(5), || {
                sent += 1;
                let n = sent;
                async move {
                    if n < 3 {
                        Err(opendal::Error::new(ErrorKind::RateLimited, "SlowDown"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(r.unwrap().unwrap(), 3);
        let t = l.report();
        assert_eq!(
            (t.responses, t.lowest_window, t.max_window),
            (2, Some(1), Some(4))
        );
        let r: Result<opendal::Result<()>, ()> = l
            .send(Duration::from_secs(5), || async {
                Err(opendal::Error::new(ErrorKind::RateLimited, "SlowDown"))
            })
            .await;
        assert_eq!(r.unwrap().unwrap_err().kind(), ErrorKind::RateLimited);
        assert_eq!(l.report().responses, 2 + u64::from(TRIES));
        // Not temporary: no second try.
        let mut sent = 0;
        let r: Result<opendal::Result<()>, ()> = l
            .send(Duration::from_secs(5), || {
                sent += 1;
                async { Err(opendal::Error::new(ErrorKind::PermissionDenied, "no")) }
            })
            .await;
        assert!(r.unwrap().is_err());
        assert_eq!(sent, 1);
    }
}
