//! Per-host statistics in fixed memory: counters, integer-nanosecond min/max, Welford's running
//! mean and deviation (no sums of squares to overflow), and a log-scale histogram for the median
//! and 95th percentile. An `Accum` lives in a worker slot and is reused host after host; what a
//! finished host keeps is the small `Summary`. Pure: no clocks, no I/O.

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
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        let lost = self.sent.saturating_sub(self.received.min(self.sent));
        lost as f64 * 100.0 / self.sent as f64
    }
}

/// A running accumulator for one host at a time.
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
    hist: Box<[u32; BUCKETS]>,
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
            hist: Box::new([0; BUCKETS]),
        }
    }
}

impl Accum {
    /// Back to zero, keeping the histogram's allocation.
    pub fn reset(&mut self) {
        self.sent = 0;
        self.received = 0;
        self.dups = 0;
        self.late = 0;
        self.errors = 0;
        self.send_errors = 0;
        self.min_ns = u64::MAX;
        self.max_ns = 0;
        self.mean = 0.0;
        self.m2 = 0.0;
        self.hist.fill(0);
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
        let b = &mut self.hist[bucket_of(ns)];
        *b = b.saturating_add(1);
    }

    fn percentile(&self, pct: u64) -> u64 {
        let total: u64 = self.hist.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return 0;
        }
        // The smallest value with at least pct% of the samples at or below it.
        let rank = (total * pct).div_ceil(100).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.hist.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return bucket_mid(i).clamp(self.min_ns, self.max_ns);
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
            s.avg_ns = self.mean.round().clamp(0.0, u64::MAX as f64) as u64;
            s.mdev_ns = var.sqrt().round().clamp(0.0, u64::MAX as f64) as u64;
            s.median_ns = self.percentile(50);
            s.p95_ns = self.percentile(95);
        }
        s
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
        a.reset();
        assert_eq!(a.summary(0), Summary::default());
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
}
