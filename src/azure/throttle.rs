//! Pacing against ARM's read bucket, one per subscription.
//!
//! ARM throttles reads with a token bucket per subscription (and principal):
//! 250 reads, refilled at 25 per second; a read on an empty bucket gets a 429
//! and a `Retry-After`. Every answer says how many reads are left
//! (`x-ms-ratelimit-remaining-subscription-reads`). [`ReadBucket`] mirrors
//! that bucket on the client: each request sent takes a token at once, the
//! mirror refills at a rate just under ARM's, and the header corrects it
//! downwards (another client drawing on the same bucket). A request that
//! finds the mirror empty waits for its token instead of being refused, so a
//! scan that would drain the bucket runs at the refill rate with almost no
//! 429 (2.2 % of requests were refused with the earlier "slow down below 25
//! left" rule; benches/README.md, "Scan").
//!
//! Until ARM has answered once, the bucket's size is unknown and nothing is
//! paced: a fresh bucket holds 250 reads, more than the requests in flight.
use std::time::Duration;

use tokio::time::Instant;

/// The client's picture of one subscription's read bucket.
#[derive(Debug, Clone)]
pub struct ReadBucket {
    /// The rate the mirror refills at (reads per second).
    per_second: f64,
    /// Reads left at an instant, after every request already sent; below
    /// zero when waiting requests have reserved tokens not yet refilled.
    /// `None` until an answer carried the header.
    level: Option<(f64, Instant)>,
    /// The most the bucket was seen to hold: refills stop there.
    capacity: f64,
    /// Requests sent before the first answer, which it may not count yet.
    sent_unknown: u32,
}

impl ReadBucket {
    /// A bucket of unknown size, refilled at `per_second` once known.
    pub fn new(per_second: f64) -> ReadBucket {
        ReadBucket {
            per_second: per_second.max(f64::MIN_POSITIVE),
            level: None,
            capacity: 0.0,
            sent_unknown: 0,
        }
    }

    /// Takes a token for a request about to be sent at `now`: when the
    /// request may go (`None`: at once).
    pub fn take(&mut self, now: Instant) -> Option<Instant> {
        let Some(tokens) = self.refilled(now) else {
            self.sent_unknown = self.sent_unknown.saturating_add(1);
            return None;
        };
        let tokens = tokens - 1.0;
        self.level = Some((tokens, now));
        (tokens < 0.0).then(|| now + Duration::from_secs_f64(-tokens / self.per_second))
    }

    /// What an answer at `now` said was left. The mirror never rises on it:
    /// requests sent after that one already hold their tokens here, and
    /// ARM has not counted them yet.
    pub fn observe(&mut self, remaining: u32, now: Instant) {
        let remaining = f64::from(remaining);
        // The request this answer is about took a token too.
        self.capacity = self.capacity.max(remaining + 1.0);
        let tokens = match self.refilled(now) {
            Some(t) => t.min(remaining),
            // The first answer: the other requests sent so far may not be
            // in its count yet.
            None => remaining - f64::from(self.sent_unknown.saturating_sub(1)),
        };
        self.level = Some((tokens, now));
    }

    /// A 429 at `now`: the bucket is empty, whatever the mirror thought.
    pub fn refused(&mut self, now: Instant) {
        // Until an answer says how large the bucket is, a refill of one.
        self.capacity = self.capacity.max(1.0);
        let tokens = self.refilled(now).unwrap_or(0.0).min(0.0);
        self.level = Some((tokens, now));
    }

    fn refilled(&self, now: Instant) -> Option<f64> {
        let (tokens, at) = self.level?;
        let elapsed = now.saturating_duration_since(at).as_secs_f64();
        Some((tokens + elapsed * self.per_second).min(self.capacity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 24.0;

    #[test]
    fn nothing_is_paced_before_arm_has_answered() {
        let mut b = ReadBucket::new(RATE);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(b.take(now), None);
        }
    }

    #[test]
    fn requests_sent_before_the_first_answer_hold_their_tokens() {
        let mut b = ReadBucket::new(RATE);
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(b.take(t0), None);
        }
        // The first of the four answers: 9 left of 10 after it; the three
        // others are on their way, so 6 may go.
        b.observe(9, t0);
        for _ in 0..6 {
            assert_eq!(b.take(t0), None);
        }
        assert!(b.take(t0).is_some());
    }

    #[test]
    fn a_drained_bucket_spaces_requests_at_the_refill_rate() {
        let mut b = ReadBucket::new(RATE);
        let t0 = Instant::now();
        b.observe(10, t0);
        // Ten reads left: ten requests go at once.
        for _ in 0..10 {
            assert_eq!(b.take(t0), None);
        }
        // The next ones wait 1/24 s more each.
        for i in 1..=48u32 {
            let at = b.take(t0).expect("paced");
            let want = Duration::from_secs_f64(f64::from(i) / RATE);
            let got = at - t0;
            assert!(
                got.abs_diff(want) < Duration::from_micros(10),
                "request {i}: {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn refills_up_to_the_largest_count_seen() {
        let mut b = ReadBucket::new(RATE);
        let t0 = Instant::now();
        b.observe(249, t0);
        for _ in 0..249 {
            assert_eq!(b.take(t0), None);
        }
        assert!(b.take(t0).is_some(), "the 250th read waits");
        // An hour later the bucket is full again, not 86,400 reads deep.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..250 {
            assert_eq!(b.take(later), None);
        }
        assert!(b.take(later).is_some());
    }

    #[test]
    fn an_answer_lowers_the_mirror_but_never_raises_it() {
        let mut b = ReadBucket::new(RATE);
        let t0 = Instant::now();
        b.observe(100, t0);
        // Another client drained the bucket: ARM says 2 left.
        b.observe(2, t0);
        assert_eq!(b.take(t0), None);
        assert_eq!(b.take(t0), None);
        assert!(b.take(t0).is_some());
        // A late answer to an earlier request says 50: the requests sent
        // since hold their tokens, so the mirror stays below zero.
        b.observe(50, t0);
        assert!(b.take(t0).is_some());
    }

    #[test]
    fn a_429_empties_the_mirror() {
        let mut b = ReadBucket::new(RATE);
        let t0 = Instant::now();
        b.observe(200, t0);
        b.refused(t0);
        let at = b.take(t0).expect("waits for a refill");
        assert!(at - t0 >= Duration::from_secs_f64(1.0 / RATE) - Duration::from_micros(10));
    }
}
