//! Per-host statistics in fixed memory: counters, min/max, Welford's mean and deviation, histogram.
//!
//! It keeps counters, integer-nanosecond min/max, Welford's running mean and deviation (no sums of
//! squares to overflow), and a log-scale histogram for the median and 95th percentile. Every host
//! of a run has its own `Accum` for the whole run (a /16 sweep holds 65,536 of them), so the
//! histogram is sparse: only the buckets that were hit, in bucket order (a host's round-trip times
//! fall in a handful), allocated on the second reply and grown only when a new bucket is hit (at
//! most `BUCKETS` entries). What a report reads is the small `Summary`; `Accum::merge` adds one
//! accumulator into another (an interval into a total). Pure: no clocks, no I/O.

/// Histogram: values below 16 ns have a bucket each; above, every power of two is split into
/// 16 buckets, so a reported percentile is the middle of its bucket, within 1/32 (3.2%) of the
/// true value. Values of 2^42 ns (73 minutes) and above share the last bucket.
const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
const MAX_EXP: u32 = 41;
const BUCKETS: usize = (MAX_EXP as usize - SUB_BITS as usize + 1) * SUB + SUB;

fn bucket_of(ns: u64) -> usize {
    if ns < SUB as u64 {
        return ns as usize;
    }
    let exp = (63 - ns.leading_zeros()).min(MAX_EXP);
    let v = ns.min((1u64 << (MAX_EXP + 1)) - 1);
    let sub = ((v >> (exp - SUB_BITS)) as usize) & (SUB - 1);
    (exp - SUB_BITS + 1) as usize * SUB + sub
}

/// The middle of a bucket, in nanoseconds.
fn bucket_mid(idx: usize) -> u64 {
    if idx < SUB {
        return idx as u64;
    }
    let exp = (idx / SUB) as u32 + SUB_BITS - 1;
    let sub = (idx % SUB) as u64;
    let width = 1u64 << (exp - SUB_BITS);
    (1u64 << exp) + sub * width + width / 2
}

/// What a host's run comes to. RTT fields are meaningful only when `received > 0`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub received: u64,
    pub dups: u64,
    pub late: u64,
    pub errors: u64,
    pub send_errors: u64,
    pub min_ns: u64,
    pub avg_ns: u64,
    pub max_ns: u64,
    pub mdev_ns: u64,
    pub median_ns: u64,
    pub p95_ns: u64,
    pub elapsed_ns: u64,
}

impl Summary {
    /// Packet loss in percent of probes sent (0 when nothing was sent).
    // Out of line: six report writers call it; inlined, each copy was ~100 bytes (issue 13).
    #[inline(never)]
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        let lost = self.sent.saturating_sub(self.received.min(self.sent));
        lost as f64 * 100.0 / self.sent as f64
    }
}

/// A running accumulator for one host at a time.
#[derive(Clone)]
pub struct Accum {
    pub sent: u64,
    pub received: u64,
    pub dups: u64,
    pub late: u64,
    pub errors: u64,
    pub send_errors: u64,
    min_ns: u64,
    max_ns: u64,
    mean: f64,
    m2: f64,
    /// (bucket, count), sorted by bucket; empty while `received <= 1` (the one value is
    /// `min_ns`).
    hist: Vec<(u16, u32)>,
    /// Fixed-bucket counts and the sum of the times, kept only when asked for
    /// ([`Accum::with_rtts`]: the Prometheus histogram).
    rtts: Option<Box<Rtts>>,
}

impl Default for Accum {
    fn default() -> Self {
        Accum {
            sent: 0,
            received: 0,
            dups: 0,
            late: 0,
            errors: 0,
            send_errors: 0,
            min_ns: u64::MAX,
            max_ns: 0,
            mean: 0.0,
            m2: 0.0,
            hist: Vec::new(),
            rtts: None,
        }
    }
}

impl Accum {
    fn hist_add(&mut self, bucket: usize, count: u32) {
        let b = bucket.min(BUCKETS - 1) as u16;
        match self.hist.binary_search_by_key(&b, |e| e.0) {
            Ok(i) => {
                if let Some(e) = self.hist.get_mut(i) {
                    e.1 = e.1.saturating_add(count);
                }
            }
            Err(i) => self.hist.insert(i, (b, count)),
        }
    }

    /// Adds `other` into `self` (Chan et al.'s pairwise update of mean and deviation).
    pub fn merge(&mut self, other: &Accum) {
        match (self.rtts.as_deref_mut(), other.rtts.as_deref()) {
            (Some(a), Some(b)) => a.absorb(b),
            (None, Some(b)) => self.rtts = Some(Box::new(*b)),
            _ => {}
        }
        self.sent = self.sent.saturating_add(other.sent);
        self.dups = self.dups.saturating_add(other.dups);
        self.late = self.late.saturating_add(other.late);
        self.errors = self.errors.saturating_add(other.errors);
        self.send_errors = self.send_errors.saturating_add(other.send_errors);
        if other.received == 0 {
            return;
        }
        if self.received == 0 {
            self.received = other.received;
            self.min_ns = other.min_ns;
            self.max_ns = other.max_ns;
            self.mean = other.mean;
            self.m2 = other.m2;
            self.hist.clone_from(&other.hist);
            return;
        }
        if self.received == 1 {
            self.hist_add(bucket_of(self.min_ns), 1);
        }
        if other.received == 1 {
            self.hist_add(bucket_of(other.min_ns), 1);
        }
        for &(b, c) in &other.hist {
            self.hist_add(usize::from(b), c);
        }
        let (na, nb) = (self.received as f64, other.received as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.received = self.received.saturating_add(other.received);
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Records one answered probe's round-trip time.
    pub fn add_rtt(&mut self, ns: u64) {
        self.received = self.received.saturating_add(1);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        let x = ns as f64;
        let n = self.received as f64;
        let delta = x - self.mean;
        self.mean += delta / n;
        self.m2 += delta * (x - self.mean);
        if self.received == 2 {
            // The first value was kept only as min_ns/max_ns: it is the other one of the two.
            let first = if ns == self.min_ns {
                self.max_ns
            } else {
                self.min_ns
            };
            self.hist_add(bucket_of(first), 1);
        }
        if self.received >= 2 {
            self.hist_add(bucket_of(ns), 1);
        }
        if let Some(r) = self.rtts.as_deref_mut() {
            r.add(ns);
        }
    }

    fn percentile(&self, pct: u64) -> u64 {
        if self.received == 1 {
            return self.min_ns;
        }
        let total: u64 = self.hist.iter().map(|&(_, c)| u64::from(c)).sum();
        if total == 0 {
            return 0;
        }
        // The smallest value with at least pct% of the samples at or below it.
        let rank = (total * pct).div_ceil(100).max(1);
        let mut seen = 0u64;
        for &(b, c) in &self.hist {
            seen += u64::from(c);
            if seen >= rank {
                // min_ns <= max_ns once anything was received (clamp would assert it).
                return bucket_mid(usize::from(b)).max(self.min_ns).min(self.max_ns);
            }
        }
        self.max_ns
    }

    pub fn summary(&self, elapsed_ns: u64) -> Summary {
        let mut s = Summary {
            sent: self.sent,
            received: self.received,
            dups: self.dups,
            late: self.late,
            errors: self.errors,
            send_errors: self.send_errors,
            elapsed_ns,
            ..Summary::default()
        };
        if self.received > 0 {
            let var = (self.m2 / self.received as f64).max(0.0);
            s.min_ns = self.min_ns;
            s.max_ns = self.max_ns;
            // `as` saturates: below 0 (and NaN) is 0, above u64::MAX is u64::MAX.
            s.avg_ns = self.mean.round() as u64;
            s.mdev_ns = var.sqrt().round() as u64;
            s.median_ns = self.percentile(50);
            s.p95_ns = self.percentile(95);
        }
        s
    }
}

// ---- Fixed buckets (issue 12) ------------------------------------------------------------

/// Upper bounds, in nanoseconds, of the fixed round-trip buckets (50 µs to 10 s; one more
/// bucket holds everything above). Fixed, so that histograms of many vantage points add up.
pub const RTT_BOUNDS_NS: [u64; 17] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Per fixed bucket counts: `[i]` counts times in (`RTT_BOUNDS_NS[i-1]`, `RTT_BOUNDS_NS[i]`],
/// the last one those above every bound (not cumulative).
pub type FixedBuckets = [u64; RTT_BOUNDS_NS.len() + 1];

fn fixed_bucket(ns: u64) -> usize {
    RTT_BOUNDS_NS.partition_point(|&b| b < ns)
}

/// Round-trip times in the fixed buckets, and their sum: what a histogram that many
/// machines add up needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rtts {
    pub fixed: FixedBuckets,
    pub sum_ns: u128,
}

impl Rtts {
    fn add(&mut self, ns: u64) {
        self.sum_ns = self.sum_ns.saturating_add(u128::from(ns));
        if let Some(b) = self.fixed.get_mut(fixed_bucket(ns)) {
            *b = b.saturating_add(1);
        }
    }

    fn absorb(&mut self, other: &Rtts) {
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
        for (a, b) in self.fixed.iter_mut().zip(other.fixed) {
            *a = a.saturating_add(b);
        }
    }

    /// How many times were counted.
    pub fn count(&self) -> u64 {
        self.fixed.iter().fold(0, |a, &b| a.saturating_add(b))
    }
}

impl Accum {
    /// An accumulator that also counts fixed buckets ([`Accum::rtts`]).
    pub fn with_rtts() -> Accum {
        Accum {
            rtts: Some(Box::default()),
            ..Accum::default()
        }
    }

    /// What this accumulator holds, leaving an empty one of the same kind in its place (an
    /// interval ends).
    pub fn take(&mut self) -> Accum {
        let fresh = if self.rtts.is_some() {
            Accum::with_rtts()
        } else {
            Accum::default()
        };
        std::mem::replace(self, fresh)
    }

    /// The fixed-bucket counts, if kept.
    pub fn rtts(&self) -> Option<&Rtts> {
        self.rtts.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for ns in 0..200_000u64 {
            let b = bucket_of(ns);
            assert!(b >= last, "{ns} -> {b}");
            last = b;
            let mid = bucket_mid(b) as f64;
            if ns > 0 {
                let err = (mid - ns as f64).abs() / ns as f64;
                assert!(err <= 1.0 / 32.0 + 1e-9, "{ns} mid {mid}");
            }
        }
        for ns in (0..64)
            .map(|e| 1u64 << e)
            .chain([u64::MAX, 3_600_000_000_000])
        {
            assert!(bucket_of(ns) < BUCKETS, "{ns}");
        }
    }

    #[test]
    fn empty_has_no_nan_and_no_division() {
        let a = Accum::default();
        let s = a.summary(0);
        assert_eq!(s.received, 0);
        assert_eq!(
            (
                s.min_ns,
                s.avg_ns,
                s.max_ns,
                s.mdev_ns,
                s.median_ns,
                s.p95_ns
            ),
            (0, 0, 0, 0, 0, 0)
        );
        assert_eq!(s.loss_percent(), 0.0);
    }

    #[test]
    fn mean_mdev_median_like_ping() {
        let mut a = Accum {
            sent: 4,
            ..Accum::default()
        };
        for ns in [1_000_000, 2_000_000, 3_000_000, 4_000_000] {
            a.add_rtt(ns);
        }
        let s = a.summary(0);
        assert_eq!(s.min_ns, 1_000_000);
        assert_eq!(s.max_ns, 4_000_000);
        assert_eq!(s.avg_ns, 2_500_000);
        // population deviation, as iputils' mdev: sqrt(1.25e12)
        assert_eq!(s.mdev_ns, 1_118_034);
        assert!((s.median_ns as f64 - 2_000_000.0).abs() <= 2_000_000.0 / 32.0);
        assert!((s.p95_ns as f64 - 4_000_000.0).abs() <= 4_000_000.0 / 32.0);
        assert_eq!(s.loss_percent(), 0.0);
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut a = Accum::default();
        for _ in 0..1000 {
            a.add_rtt(u64::MAX);
            a.add_rtt(0);
        }
        let s = a.summary(u64::MAX);
        assert_eq!(s.min_ns, 0);
        assert_eq!(s.max_ns, u64::MAX);
        assert!(s.avg_ns > 0 && s.mdev_ns > 0);
        assert_eq!(Accum::default().summary(0), Summary::default());
    }

    #[test]
    fn sparse_histogram_matches_every_order() {
        let vals = [5_000u64, 1_000, 1_000, 90_000, 5_000, 7, 1_000_000];
        let mut a = Accum::default();
        for v in vals {
            a.add_rtt(v);
        }
        let mut b = Accum::default();
        for v in vals.iter().rev() {
            b.add_rtt(*v);
        }
        assert_eq!(a.summary(0), b.summary(0));
        let s = a.summary(0);
        assert_eq!((s.min_ns, s.max_ns, s.received), (7, 1_000_000, 7));
        assert!(
            (s.median_ns as f64 - 5_000.0).abs() <= 5_000.0 / 32.0,
            "{s:?}"
        );
        assert!(a.hist.len() <= 5, "{:?}", a.hist);
        let mut one = Accum::default();
        one.add_rtt(42);
        assert!(one.hist.is_empty());
        assert_eq!((one.summary(0).median_ns, one.summary(0).p95_ns), (42, 42));
    }

    #[test]
    fn merge_is_the_same_as_one_accumulator() {
        let vals = [5_000u64, 1_000, 3_000, 90_000, 5_000, 7];
        let mut whole = Accum::default();
        let (mut x, mut y) = (Accum::default(), Accum::default());
        for (i, v) in vals.iter().enumerate() {
            whole.add_rtt(*v);
            if i < 1 {
                x.add_rtt(*v);
            } else {
                y.add_rtt(*v);
            }
        }
        x.sent = 2;
        y.sent = 5;
        x.merge(&y);
        let (m, w) = (x.summary(0), whole.summary(0));
        assert_eq!((m.sent, m.received, m.min_ns, m.max_ns), (7, 6, 7, 90_000));
        assert_eq!((m.median_ns, m.p95_ns), (w.median_ns, w.p95_ns));
        assert!(m.avg_ns.abs_diff(w.avg_ns) <= 1 && m.mdev_ns.abs_diff(w.mdev_ns) <= 1);
        let mut e = Accum::default();
        e.merge(&Accum::default());
        assert_eq!(e.summary(0), Summary::default());
    }

    #[test]
    fn loss_counts_duplicates_as_nothing() {
        let s = Summary {
            sent: 3,
            received: 1,
            dups: 5,
            ..Summary::default()
        };
        assert!((s.loss_percent() - 66.666_666).abs() < 1e-3);
    }

    #[test]
    fn fixed_buckets_count_take_and_merge() {
        assert_eq!(fixed_bucket(0), 0);
        assert_eq!(fixed_bucket(50_000), 0);
        assert_eq!(fixed_bucket(50_001), 1);
        assert_eq!(fixed_bucket(10_000_000_000), 16);
        assert_eq!(fixed_bucket(10_000_000_001), 17);
        assert_eq!(fixed_bucket(u64::MAX), 17);
        assert!(RTT_BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
        assert!(Accum::default().rtts().is_none());
        let mut a = Accum::with_rtts();
        for ns in [40_000, 60_000, 3_000_000] {
            a.add_rtt(ns);
        }
        let r = *a.rtts().unwrap();
        assert_eq!(
            (r.fixed[0], r.fixed[1], r.fixed[6], r.count()),
            (1, 1, 1, 3)
        );
        assert_eq!(r.sum_ns, 3_100_000);
        // take: the interval so far out, an empty one of the same kind in.
        let first = a.take();
        assert_eq!(first.received, 3);
        assert_eq!(a.received, 0);
        assert_eq!(a.rtts().map(Rtts::count), Some(0));
        a.add_rtt(70_000);
        // merge: totals over intervals, a plain accumulator adopting the buckets.
        let mut total = Accum::default();
        total.merge(&first);
        total.merge(&a);
        assert_eq!(total.received, 4);
        assert_eq!(total.rtts().map(Rtts::count), Some(4));
        assert_eq!(total.rtts().map(|r| r.sum_ns), Some(3_170_000));
        assert!(Accum::default().take().rtts().is_none());
    }
}
