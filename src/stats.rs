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
    /// Interval reports (`--every`): the round trips since the last report.
    window: Option<Box<Window>>,
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
            window: None,
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
        if let Some(w) = self.window.as_deref_mut() {
            w.clear();
        }
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
        if let Some(w) = self.window.as_deref_mut() {
            w.add(ns);
        }
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

// ---- Interval reports (`--every`, issue 12) ------------------------------------------------
//
// Counters need no help: the counts of an interval are the difference of two cumulative
// snapshots. Round-trip times do (an interval's min, max, deviation and percentiles cannot be
// recovered from cumulative ones), so an `Accum` built `with_window` also feeds a second,
// resettable accumulator, which each report takes. It also counts the fixed buckets that
// histograms aggregated across machines need (Prometheus' `le`).

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

/// The round trips since the last report.
struct Window {
    rtt: Accum,
    sum_ns: u128,
    fixed: FixedBuckets,
}

impl Window {
    fn add(&mut self, ns: u64) {
        self.rtt.add_rtt(ns);
        self.sum_ns = self.sum_ns.saturating_add(u128::from(ns));
        if let Some(b) = self.fixed.get_mut(fixed_bucket(ns)) {
            *b = b.saturating_add(1);
        }
    }

    fn clear(&mut self) {
        self.rtt.reset();
        self.sum_ns = 0;
        self.fixed = [0; RTT_BOUNDS_NS.len() + 1];
    }
}

/// What a window held when a report took it: the RTT fields (and `received`) of its summary,
/// the sum of its times and its fixed-bucket counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rtts {
    pub summary: Summary,
    pub sum_ns: u128,
    pub fixed: FixedBuckets,
}

impl Rtts {
    /// Adds a later window to this one (a host's windows over a whole run); the RTT summary
    /// fields are left as they are.
    pub fn absorb(&mut self, later: &Rtts) {
        self.sum_ns = self.sum_ns.saturating_add(later.sum_ns);
        for (a, b) in self.fixed.iter_mut().zip(later.fixed) {
            *a = a.saturating_add(b);
        }
        self.summary.received = self.summary.received.saturating_add(later.summary.received);
    }
}

/// One host at the moment of a report: its cumulative summary and the window just taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub total: Summary,
    pub window: Option<Rtts>,
}

impl Accum {
    /// An accumulator that also keeps the window interval reports take.
    pub fn with_window() -> Accum {
        Accum {
            window: Some(Box::new(Window {
                rtt: Accum::default(),
                sum_ns: 0,
                fixed: [0; RTT_BOUNDS_NS.len() + 1],
            })),
            ..Accum::default()
        }
    }

    /// The cumulative summary, and the window since the last snapshot (which starts anew).
    pub fn snapshot(&mut self, elapsed_ns: u64) -> Snapshot {
        let total = self.summary(elapsed_ns);
        let window = self.window.as_deref_mut().map(|w| {
            let r = Rtts {
                summary: w.rtt.summary(0),
                sum_ns: w.sum_ns,
                fixed: w.fixed,
            };
            w.clear();
            r
        });
        Snapshot { total, window }
    }
}

/// The counters of a host at one report: where the next interval starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: u64,
    pub received: u64,
    pub dups: u64,
    pub late: u64,
    pub errors: u64,
    pub send_errors: u64,
}

impl Counts {
    pub fn of(s: &Summary) -> Counts {
        Counts {
            sent: s.sent,
            received: s.received,
            dups: s.dups,
            late: s.late,
            errors: s.errors,
            send_errors: s.send_errors,
        }
    }
}

/// One host's interval as a summary: the counts since `prev`, the round-trip figures of the
/// window (none if it held no reply), `elapsed_ns` the interval's length. A reply is counted
/// in the interval it arrived in, so one interval may show more replies than probes (its loss
/// is then 0); the intervals of a run add up to the run.
pub fn interval(prev: &Counts, now: &Summary, window: Option<&Rtts>, elapsed_ns: u64) -> Summary {
    let mut s = Summary {
        sent: now.sent.saturating_sub(prev.sent),
        received: now.received.saturating_sub(prev.received),
        dups: now.dups.saturating_sub(prev.dups),
        late: now.late.saturating_sub(prev.late),
        errors: now.errors.saturating_sub(prev.errors),
        send_errors: now.send_errors.saturating_sub(prev.send_errors),
        elapsed_ns,
        ..Summary::default()
    };
    if let Some(w) = window.filter(|w| w.summary.received > 0) {
        let r = &w.summary;
        s.min_ns = r.min_ns;
        s.avg_ns = r.avg_ns;
        s.max_ns = r.max_ns;
        s.mdev_ns = r.mdev_ns;
        s.median_ns = r.median_ns;
        s.p95_ns = r.p95_ns;
    }
    s
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

    #[test]
    fn windows_restart_and_intervals_add_up() {
        let mut a = Accum::with_window();
        a.sent = 3;
        for ns in [40_000, 60_000, 3_000_000] {
            a.add_rtt(ns);
        }
        let first = a.snapshot(1_000);
        let w = first.window.unwrap();
        assert_eq!(w.summary.received, 3);
        assert_eq!((w.summary.min_ns, w.summary.max_ns), (40_000, 3_000_000));
        assert_eq!(w.sum_ns, 3_100_000);
        // 40 µs <= 50 µs; 60 µs in (50, 100]; 3 ms in (2.5, 5] ms.
        assert_eq!((w.fixed[0], w.fixed[1], w.fixed[6]), (1, 1, 1));
        assert_eq!(w.fixed.iter().sum::<u64>(), 3);
        let i1 = interval(
            &Counts::default(),
            &first.total,
            first.window.as_ref(),
            1_000,
        );
        assert_eq!(
            (i1.sent, i1.received, i1.min_ns, i1.max_ns),
            (3, 3, 40_000, 3_000_000)
        );

        a.sent += 2;
        a.dups += 1;
        a.add_rtt(70_000);
        let second = a.snapshot(2_000);
        let w2 = second.window.unwrap();
        assert_eq!(w2.summary.received, 1);
        assert_eq!((w2.summary.min_ns, w2.summary.max_ns), (70_000, 70_000));
        let i2 = interval(&Counts::of(&first.total), &second.total, Some(&w2), 1_000);
        assert_eq!((i2.sent, i2.received, i2.dups), (2, 1, 1));
        assert_eq!((i2.min_ns, i2.avg_ns, i2.max_ns), (70_000, 70_000, 70_000));
        assert_eq!(i2.loss_percent(), 50.0);
        assert_eq!(i1.sent + i2.sent, second.total.sent);
        assert_eq!(i1.received + i2.received, second.total.received);
        // The cumulative figures are untouched by the windows.
        assert_eq!(
            (second.total.min_ns, second.total.max_ns),
            (40_000, 3_000_000)
        );

        // An empty window: counts only, no RTT figures.
        let third = a.snapshot(3_000);
        let i3 = interval(
            &Counts::of(&second.total),
            &third.total,
            third.window.as_ref(),
            1,
        );
        assert_eq!((i3.sent, i3.received, i3.min_ns), (0, 0, 0));
        let mut all = w;
        all.absorb(&w2);
        assert_eq!(all.summary.received, 4);
        assert_eq!(all.fixed.iter().sum::<u64>(), 4);
        // A plain accumulator has no window, and reset clears one.
        assert_eq!(Accum::default().snapshot(0).window, None);
        a.add_rtt(1);
        a.reset();
        assert_eq!(a.snapshot(0).window.unwrap().summary.received, 0);
    }

    #[test]
    fn fixed_buckets_are_upper_inclusive() {
        assert_eq!(fixed_bucket(0), 0);
        assert_eq!(fixed_bucket(50_000), 0);
        assert_eq!(fixed_bucket(50_001), 1);
        assert_eq!(fixed_bucket(10_000_000_000), 16);
        assert_eq!(fixed_bucket(10_000_000_001), 17);
        assert_eq!(fixed_bucket(u64::MAX), 17);
        assert!(RTT_BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
    }
}
