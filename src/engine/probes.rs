//! The probe ring of one host: probe numbers, wire sequence numbers, pending count and expiry.
//!
//! It keeps probe numbers (1, 2, ...) and their 16-bit wire sequence numbers, the count of probes
//! awaiting a reply, expiry in send order, and the rule that keeps an old packet from being
//! credited to a newer probe once the sequence space has wrapped. Pure: no clocks (every time is
//! passed in, nanoseconds on the run's monotonic clock; the decisions about time are `rtt.rs`'s),
//! no I/O, no locks, no allocation after `new`. The ring is sized by `ring_len` so every probe that
//! can still be answered (younger than `-W`) has its own place; an older one is overwritten and
//! counted as lost.

use crate::packet::Seq;

/// What became of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    #[default]
    Empty,
    Pending,
    Answered,
    Expired,
    Failed,
}

/// One sent probe (16 bytes: the ring is much of a host's memory in a /16 sweep).
#[derive(Debug, Clone, Copy, Default)]
struct Probe {
    /// The low 32 bits of the probe's number (0: never used); the wire sequence number is
    /// its low 16 bits.
    n: u32,
    /// How long after `sent_mono` the kernel stamped the packet as leaving (0: no transmit
    /// stamp), as `encode_delta` packs it. The round-trip time starts there.
    tx_delta: u16,
    state: State,
    /// The clock read next to `sendto` (before it): no reply can have arrived earlier, so
    /// this, not the transmit stamp, decides whether a packet can answer the probe.
    sent_mono: u64,
}

/// `Probe::tx_delta` in 16 bits: below 32,768 ns exactly, up to about 33.5 ms in steps of
/// 1,024 ns (a thread preempted between its clock read and `sendto`, as when a thousand
/// threads share two cores); None beyond, when the clock read stays the send time.
fn encode_delta(ns: u64) -> Option<u16> {
    if ns < 1 << 15 {
        return Some(ns as u16);
    }
    let units = ns >> 10;
    (units < 1 << 15).then_some((units as u16) | 0x8000)
}

fn decode_delta(d: u16) -> u64 {
    if d & 0x8000 == 0 {
        u64::from(d)
    } else {
        u64::from(d & 0x7fff) << 10
    }
}

impl Probe {
    /// When the probe left: the kernel's transmit stamp if there is one, else the clock read.
    fn left(&self) -> u64 {
        self.sent_mono.saturating_add(decode_delta(self.tx_delta))
    }

    /// Whether this place holds a sent probe whose sequence number is `seq`.
    fn holds(&self, seq: Seq) -> bool {
        self.n != 0 && Seq::of_probe(u64::from(self.n)) == seq && self.state != State::Empty
    }
}

/// How a packet speaking of a probe was credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    /// The first reply: counted as received, with this round-trip time.
    First(u64),
    /// Another reply to an answered probe.
    Dup(u64),
    /// A reply to a probe already given up (`-W`).
    Late(u64),
}

/// The probes of one host. Sequence numbers come and go as [`Seq`], never a bare integer, so
/// one cannot be mistaken for a probe number or a slot.
#[derive(Debug)]
pub struct Ring {
    slots: Box<[Probe]>,
    /// The number the next probe gets (the first is 1).
    next_n: u64,
    /// The oldest pending probe's number (or `next_n` when none is): every probe below it
    /// is settled. Moved forward after every change, so it moves at most once per probe.
    oldest: u64,
    pending: u64,
}

impl Ring {
    /// A ring of `len` places (a power of two from 1 to 65,536; other values are rounded).
    pub fn new(len: usize) -> Ring {
        let len = len.clamp(1, 65_536).next_power_of_two();
        Ring {
            slots: vec![Probe::default(); len].into_boxed_slice(),
            next_n: 1,
            oldest: 1,
            pending: 0,
        }
    }

    /// Probes sent so far (including those whose send failed).
    pub fn sent(&self) -> u64 {
        self.next_n - 1
    }

    /// Probes sent and still awaiting a reply.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    fn place(&self, n: u64) -> usize {
        (n % self.slots.len() as u64) as usize
    }

    /// Moves `oldest` past settled probes (amortised O(1): it only ever moves forward).
    fn advance(&mut self) {
        while self.oldest < self.next_n {
            let p = &self.slots[self.place(self.oldest)];
            if p.n == self.oldest as u32 && p.state == State::Pending {
                return;
            }
            self.oldest += 1;
        }
    }

    /// Records the next probe as sent at `mono` and returns its wire sequence number. Call it
    /// before the packet leaves: a loopback reply can beat `sendto`'s return. If its place
    /// still held an unanswered probe, that one is given up as lost.
    pub fn record_send(&mut self, mono: u64) -> Seq {
        let n = self.next_n;
        let at = self.place(n);
        let old = std::mem::replace(
            &mut self.slots[at],
            Probe {
                n: n as u32,
                tx_delta: 0,
                state: State::Pending,
                sent_mono: mono,
            },
        );
        if old.state == State::Pending {
            self.pending = self.pending.saturating_sub(1);
        }
        self.pending += 1;
        self.next_n += 1;
        let len = self.slots.len() as u64;
        if self.next_n - self.oldest > len {
            self.oldest = self.next_n - len;
            self.advance();
        }
        Seq::of_probe(n)
    }

    /// The probe just recorded could not be sent: it awaits nothing.
    pub fn send_failed(&mut self, seq: Seq) {
        if let Some(p) = self.find(seq, None) {
            if p.state == State::Pending {
                p.state = State::Failed;
                self.pending = self.pending.saturating_sub(1);
            }
        }
        self.advance();
    }

    /// A more exact send time from the kernel (a transmit timestamp, on the monotonic
    /// clock): kept only if it is not before the clock read next to `sendto` (the packet
    /// cannot leave before it was handed over), at most about 33 ms after it, and the probe
    /// still awaits its reply.
    pub fn set_sent(&mut self, seq: Seq, tx_mono: u64) {
        if let Some(p) = self.find(seq, None) {
            let delta = tx_mono.checked_sub(p.sent_mono).and_then(encode_delta);
            if let (State::Pending, Some(d)) = (p.state, delta) {
                p.tx_delta = d;
            }
        }
    }

    /// The tracked probe a packet with `seq` speaks of: its place holds a probe with that
    /// sequence number, and a packet that arrived at `rx_mono` arrived after that probe left
    /// (an old packet whose number has come round again is not a reply to it).
    fn find(&mut self, seq: Seq, rx_mono: Option<u64>) -> Option<&mut Probe> {
        let p = self.slots.get_mut(seq.place(self.slots.len()))?;
        if !p.holds(seq) {
            return None;
        }
        if rx_mono.is_some_and(|rx| !crate::rtt::after_send(rx, p.sent_mono)) {
            return None;
        }
        Some(p)
    }

    /// Credits an echo reply with `seq` that arrived at `rx_mono`. None: no tracked probe
    /// has that number (foreign, stale or forged).
    pub fn answer(&mut self, seq: Seq, rx_mono: u64) -> Option<Credit> {
        let p = self.find(seq, Some(rx_mono))?;
        let rtt = crate::rtt::rtt(rx_mono, p.left());
        match p.state {
            State::Pending => {
                p.state = State::Answered;
                self.pending = self.pending.saturating_sub(1);
                self.advance();
                Some(Credit::First(rtt))
            }
            State::Answered => Some(Credit::Dup(rtt)),
            State::Expired => Some(Credit::Late(rtt)),
            State::Empty | State::Failed => None,
        }
    }

    /// An ICMP error quoting probe `seq`: it settles the probe (as iputils counts it). Returns
    /// whether the error speaks of a tracked probe.
    pub fn fail(&mut self, seq: Seq, rx_mono: u64) -> bool {
        let Some(p) = self.find(seq, Some(rx_mono)) else {
            return false;
        };
        if p.state == State::Pending {
            p.state = State::Failed;
            self.pending = self.pending.saturating_sub(1);
        }
        self.advance();
        true
    }

    /// The number (1, 2, ...) of the tracked probe with `seq` (fping prints it as `[n-1]`).
    pub fn number(&self, seq: Seq) -> Option<u64> {
        let p = self.slots.get(seq.place(self.slots.len()))?;
        p.holds(seq).then_some(u64::from(p.n))
    }

    /// Whether an ICMP error quoting `seq` speaks of a probe still awaiting its reply
    /// (fping reports it and lets the probe time out: nothing is settled).
    pub fn awaits(&mut self, seq: Seq, rx_mono: u64) -> bool {
        self.find(seq, Some(rx_mono))
            .is_some_and(|p| p.state == State::Pending)
    }

    /// When the oldest unanswered probe times out (`timeout` after it left), if any.
    pub fn next_expiry(&self, timeout: u64) -> Option<u64> {
        if self.pending == 0 || self.oldest >= self.next_n {
            return None;
        }
        let p = &self.slots[self.place(self.oldest)];
        (p.state == State::Pending).then(|| p.sent_mono.saturating_add(timeout))
    }

    /// Gives up the oldest unanswered probe if it has timed out at `now`, and returns its
    /// sequence number (call again until None). Probes expire in the order they were sent.
    pub fn expire(&mut self, now: u64, timeout: u64) -> Option<Seq> {
        self.advance();
        if self.oldest >= self.next_n {
            return None;
        }
        let at = self.place(self.oldest);
        let p = &mut self.slots[at];
        if now < p.sent_mono.saturating_add(timeout) {
            return None;
        }
        p.state = State::Expired;
        let seq = Seq::of_probe(u64::from(p.n));
        self.pending = self.pending.saturating_sub(1);
        self.advance();
        Some(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u64 = 1_000;

    #[test]
    fn sizes_are_powers_of_two() {
        assert_eq!(Ring::new(0).slots.len(), 1);
        assert_eq!(Ring::new(3).slots.len(), 4);
        assert_eq!(Ring::new(1 << 20).slots.len(), 65_536);
        assert_eq!(std::mem::size_of::<Probe>(), 16);
    }

    #[test]
    fn reply_then_duplicate_then_nothing_foreign() {
        let mut r = Ring::new(4);
        let s = r.record_send(100);
        assert_eq!((s, r.sent(), r.pending()), (Seq(1), 1, 1));
        assert_eq!(r.answer(Seq(1), 130), Some(Credit::First(30)));
        assert_eq!(r.pending(), 0);
        assert_eq!(r.answer(Seq(1), 150), Some(Credit::Dup(50)));
        assert_eq!(r.answer(Seq(2), 150), None, "never sent");
        assert_eq!(r.answer(Seq(0), 150), None);
        assert_eq!(r.answer(Seq(5), 150), None, "same place, other number");
    }

    #[test]
    fn a_reply_from_before_the_send_is_not_one() {
        let mut r = Ring::new(4);
        r.record_send(100);
        assert_eq!(r.answer(Seq(1), 99), None);
        assert!(!r.fail(Seq(1), 99));
        assert_eq!(r.answer(Seq(1), 100), Some(Credit::First(0)));
    }

    #[test]
    fn transmit_stamp_refines_the_send_time() {
        let mut r = Ring::new(4);
        r.record_send(1_000);
        r.set_sent(Seq(1), 1_160);
        assert_eq!(r.answer(Seq(1), 1_200), Some(Credit::First(40)));
        r.set_sent(Seq(1), 1_190); // answered: too late to change anything
        assert_eq!(r.answer(Seq(1), 1_200), Some(Credit::Dup(40)));
        r.record_send(2_000);
        r.set_sent(Seq(2), 1_990); // before the user-space stamp: ignored
        assert_eq!(r.answer(Seq(2), 2_020), Some(Credit::First(20)));
        r.record_send(3_000);
        r.set_sent(Seq(3), 3_000 + 50_000_000); // implausibly late: ignored
        assert_eq!(r.answer(Seq(3), 3_100), Some(Credit::First(100)));
        // A thread preempted for 6.5 ms between its clock read and sendto: not counted.
        assert_eq!(r.record_send(10_000_000), Seq(4));
        r.set_sent(Seq(4), 16_500_000);
        // (to within the 1,024 ns step the delta is kept in at that size)
        match r.answer(Seq(4), 16_510_000) {
            Some(Credit::First(rtt)) => assert!((10_000..11_024).contains(&rtt), "{rtt}"),
            other => panic!("{other:?}"),
        }
        // A stamp a little after the reply's arrival (the clocks are read at different
        // times) neither loses the reply nor makes its time negative.
        assert_eq!(r.record_send(20_000_000), Seq(5));
        r.set_sent(Seq(5), 20_000_032);
        assert_eq!(r.answer(Seq(5), 20_000_016), Some(Credit::First(0)));
    }

    #[test]
    fn transmit_deltas_pack_into_16_bits() {
        for ns in [0, 1, 16, 32_767] {
            assert_eq!(decode_delta(encode_delta(ns).unwrap()), ns);
        }
        for ns in [32_768u64, 100_000, 6_500_000, 33_000_000] {
            let back = decode_delta(encode_delta(ns).unwrap());
            assert!(back <= ns && ns - back < 1_024, "{ns} {back}");
        }
        assert_eq!(encode_delta(34_000_000), None);
        assert_eq!(encode_delta(u64::MAX), None);
    }

    #[test]
    fn expiry_in_send_order_and_late_replies() {
        let mut r = Ring::new(8);
        for t in [0, 10, 20] {
            r.record_send(t);
        }
        assert_eq!(r.next_expiry(W), Some(W));
        assert_eq!(r.expire(W - 1, W), None);
        // The second is answered: only 1 and 3 expire, oldest first.
        assert_eq!(r.answer(Seq(2), 15), Some(Credit::First(5)));
        assert_eq!(r.expire(W + 10, W), Some(Seq(1)));
        assert_eq!(r.next_expiry(W), Some(20 + W));
        assert_eq!(r.expire(W + 10, W), None);
        assert_eq!(r.expire(W + 20, W), Some(Seq(3)));
        assert_eq!(r.expire(u64::MAX, W), None);
        assert_eq!((r.pending(), r.next_expiry(W)), (0, None));
        assert_eq!(r.answer(Seq(1), 2_000), Some(Credit::Late(2_000)));
        assert_eq!(r.answer(Seq(3), 2_000), Some(Credit::Late(1_980)));
    }

    #[test]
    fn errors_settle_and_failed_sends_await_nothing() {
        let mut r = Ring::new(4);
        r.record_send(0);
        r.record_send(1);
        assert!(r.fail(Seq(1), 5));
        assert!(!r.fail(Seq(3), 5));
        r.send_failed(Seq(2));
        assert_eq!(r.pending(), 0);
        assert_eq!(
            r.answer(Seq(1), 5),
            None,
            "an errored probe is not answered"
        );
        assert_eq!(r.answer(Seq(2), 5), None);
        assert_eq!(r.expire(u64::MAX, W), None);
    }

    #[test]
    fn a_full_ring_gives_up_the_oldest() {
        let mut r = Ring::new(2);
        r.record_send(0);
        r.record_send(1);
        r.record_send(2); // overwrites probe 1
        assert_eq!(r.pending(), 2);
        assert_eq!(r.answer(Seq(1), 5), None);
        assert_eq!(r.expire(u64::MAX, W), Some(Seq(2)));
        assert_eq!(r.expire(u64::MAX, W), Some(Seq(3)));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn a_one_place_ring_serves_a_one_shot() {
        let mut r = Ring::new(1);
        assert_eq!(r.record_send(0), Seq(1));
        assert_eq!(r.next_expiry(W), Some(W));
        assert_eq!(r.answer(Seq(1), 4), Some(Credit::First(4)));
        assert_eq!(r.answer(Seq(1), 5), Some(Credit::Dup(5)));
        assert_eq!(
            (r.pending(), r.next_expiry(W), r.expire(u64::MAX, W)),
            (0, None, None)
        );
    }

    #[test]
    fn sequence_numbers_wrap_at_65535() {
        let mut r = Ring::new(4);
        let mut t = 0;
        for n in 1..=65_535u64 {
            t += 10;
            assert_eq!(r.record_send(t), Seq(n as u16));
            assert_eq!(r.answer(Seq::of_probe(n), t + 1), Some(Credit::First(1)));
        }
        // Probe 65,536 goes out as 0, 65,537 as 1.
        t += 10;
        assert_eq!(r.record_send(t), Seq(0));
        assert_eq!(r.answer(Seq(0), t + 2), Some(Credit::First(2)));
        t += 10;
        let sent = t;
        assert_eq!(r.record_send(t), Seq(1));
        // A packet for the first probe 1, which arrived long before probe 65,537 left: not a
        // reply to it.
        assert_eq!(r.answer(Seq(1), 15), None);
        assert_eq!(r.pending(), 1);
        assert!(!r.fail(Seq(1), 15), "an old error settles nothing either");
        assert_eq!(r.answer(Seq(1), sent + 3), Some(Credit::First(3)));
        assert_eq!(r.sent(), 65_537);
        assert_eq!(r.pending(), 0);
    }
}
