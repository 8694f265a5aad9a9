//! When a packet arrived and what round-trip time it gives, decided on the monotonic clock.
//!
//! One pure decision. Kernel receive stamps (`SO_TIMESTAMPNS`) are wall-clock time, which NTP or an
//! administrator may step in the middle of a run; comparing them with a probe's wall-clock send
//! time would then drop a genuine reply (a step back makes it look older than its probe) or give a
//! negative or absurd RTT. So a probe keeps only its monotonic send time, and a kernel stamp is
//! used only as an *age*: how long the packet waited in the socket before it was read, measured
//! between two wall-clock readings a moment apart (the stamp and the reading taken at read time),
//! and subtracted from the monotonic time of that read. A step can only fall between those two
//! readings; an age that is negative or longer than [`MAX_QUEUE_AGE_NS`] is not believed, and the
//! read time is used instead, which is always after the probe left for a genuine reply. Nothing
//! here reads a clock.

/// The longest a packet is believed to have waited in a socket before being read. Longer
/// ages mean the wall clock stepped forward between the kernel's stamp and the read.
pub const MAX_QUEUE_AGE_NS: u64 = 1_000_000_000;

/// The clocks read right after a packet was read, as one pair: the wall clock and the
/// monotonic time at the same instant (see [`ReadAt::sample`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAt {
    /// CLOCK_REALTIME, nanoseconds since the epoch (the clock of kernel stamps).
    pub real_ns: u64,
    /// The run's monotonic clock, nanoseconds.
    pub mono_ns: u64,
}

/// A clock pair whose two monotonic readings lie closer than this is taken at once.
pub const PAIR_SPAN_NS: u64 = 2_000;
/// How many times [`ReadAt::sample`] reads the pair at most before keeping its tightest.
pub const PAIR_TRIES: usize = 4;

impl ReadAt {
    /// Reads the wall clock between two monotonic readings and pairs it with their midpoint,
    /// so a thread preempted between the readings (a busy machine, many threads on few cores)
    /// is off by at most half the span, in either direction, instead of by the whole
    /// preemption. Up to [`PAIR_TRIES`] pairs are read and the tightest is kept; one within
    /// [`PAIR_SPAN_NS`] ends the search. An error here moves a kernel stamp converted to the
    /// monotonic clock: for a transmit stamp it would shorten the RTT, for a receive stamp
    /// lengthen it, and before this a preempted transmit conversion could make a loopback
    /// RTT 0.
    pub fn sample(mut mono: impl FnMut() -> u64, mut real: impl FnMut() -> u64) -> ReadAt {
        let mut best: Option<(u64, ReadAt)> = None;
        for _ in 0..PAIR_TRIES {
            let before = mono();
            let real_ns = real();
            let span = mono().saturating_sub(before);
            let pair = ReadAt {
                real_ns,
                mono_ns: before.saturating_add(span / 2),
            };
            if best.map_or(true, |(s, _)| span < s) {
                best = Some((span, pair));
            }
            if span < PAIR_SPAN_NS {
                break;
            }
        }
        best.map_or(
            ReadAt {
                real_ns: 0,
                mono_ns: 0,
            },
            |(_, p)| p,
        )
    }
}

/// The monotonic time at which a packet reached the socket: the read time less the age
/// its kernel stamp gives, when that age is believable; otherwise the read time.
pub fn received_at(kernel_real_ns: Option<u64>, read: ReadAt) -> u64 {
    match kernel_real_ns {
        Some(k) if k <= read.real_ns && read.real_ns - k <= MAX_QUEUE_AGE_NS => {
            read.mono_ns.saturating_sub(read.real_ns - k)
        }
        _ => read.mono_ns,
    }
}

/// Whether a packet received at `rx_mono` can answer a probe sent at `sent_mono` (an older
/// packet whose 16-bit sequence number has come round again cannot).
pub fn after_send(rx_mono: u64, sent_mono: u64) -> bool {
    rx_mono >= sent_mono
}

/// The round-trip time of a reply received at `rx_mono` to a probe sent at `sent_mono`
/// (never negative; at most the time from the send to the read).
pub fn rtt(rx_mono: u64, sent_mono: u64) -> u64 {
    rx_mono.saturating_sub(sent_mono)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;
    /// An arbitrary wall-clock time and monotonic time.
    const WALL: u64 = 1_767_000_000 * S;
    const MONO: u64 = 50 * S;

    /// A probe sent at monotonic MONO (wall clock WALL then), a reply that arrived after
    /// `rtt` and was read `wait` later, with the wall clock stepped by `step` (signed ns)
    /// at `step_at` (0: before the reply arrived; 1: between arrival and read).
    fn scenario(rtt_ns: u64, wait: u64, step: i64, step_at: u8) -> (Option<u64>, ReadAt) {
        let shift = |t: u64| t.saturating_add_signed(step);
        let arrived_wall = WALL + rtt_ns;
        let read_wall = WALL + rtt_ns + wait;
        let stamp = if step_at == 0 {
            shift(arrived_wall)
        } else {
            arrived_wall
        };
        let read = ReadAt {
            real_ns: shift(read_wall),
            mono_ns: MONO + rtt_ns + wait,
        };
        (Some(stamp), read)
    }

    #[test]
    fn no_step_uses_the_kernel_stamp() {
        for (rtt_ns, wait) in [(30_000, 5_000), (2 * MS, 0), (900 * MS, 80 * MS)] {
            let (k, read) = scenario(rtt_ns, wait, 0, 0);
            let rx = received_at(k, read);
            assert_eq!(rx, MONO + rtt_ns, "the wait in the socket is not counted");
            assert!(after_send(rx, MONO));
            assert_eq!(rtt(rx, MONO), rtt_ns);
        }
    }

    #[test]
    fn a_step_between_send_and_receive_changes_nothing() {
        // NTP steps the wall clock by ±1 h or ±2 ms after the probe left: the reply is
        // still credited, with its true RTT, because only the age in the socket is used.
        for step in [
            3_600 * S as i64,
            -(3_600 * S as i64),
            2 * MS as i64,
            -2 * MS as i64,
        ] {
            let (k, read) = scenario(400_000, 20_000, step, 0);
            let rx = received_at(k, read);
            assert!(after_send(rx, MONO), "step {step}: genuine reply dropped");
            assert_eq!(rtt(rx, MONO), 400_000, "step {step}");
        }
    }

    #[test]
    fn a_step_between_arrival_and_read_falls_back_to_the_read_time() {
        // Backward past the stamp: it is "in the future". Forward by more than a queue age:
        // absurd. Either way the read time is used.
        for step in [-(5 * S as i64), -20_001, 2 * S as i64, 3_600 * S as i64] {
            let (k, read) = scenario(400_000, 20_000, step, 1);
            let rx = received_at(k, read);
            assert_eq!(rx, read.mono_ns, "step {step}");
            assert!(after_send(rx, MONO));
            assert_eq!(
                rtt(rx, MONO),
                420_000,
                "RTT bounded by the monotonic read time"
            );
        }
        // Backward by less than the wait: the packet only looks younger (still after the send).
        let (k, read) = scenario(400_000, 20_000, -1, 1);
        let rx = received_at(k, read);
        assert!(after_send(rx, MONO) && rx <= read.mono_ns);
        // Forward by less than a queue age: the packet looks older, by at most that step,
        // never older than the read time less MAX_QUEUE_AGE_NS.
        let (k, read) = scenario(400_000, 20_000, 300 * MS as i64, 1);
        let rx = received_at(k, read);
        assert!(rx >= read.mono_ns - MAX_QUEUE_AGE_NS && rx <= read.mono_ns);
    }

    /// One simulated instant `now` (monotonic); the wall clock is WALL at MONO and runs with
    /// it. Each monotonic reading first lets `steps[i]` ns pass (a preemption, or the cost of
    /// the reading before it); the wall clock is read at the current instant.
    fn sample_with(now: &Cell<u64>, steps: &[u64]) -> ReadAt {
        let mut i = 0;
        ReadAt::sample(
            || {
                now.set(now.get() + steps.get(i).copied().unwrap_or(0));
                i += 1;
                now.get()
            },
            || WALL + (now.get() - MONO),
        )
    }

    #[test]
    fn a_clock_pair_is_the_midpoint_of_the_tightest_reading() {
        // A quiet machine: 100 ns between the readings, taken at once; the pair is exact
        // to within half of that.
        let now = Cell::new(MONO);
        let p = sample_with(&now, &[0, 100]);
        assert_eq!((p.real_ns - WALL) as i64 - (p.mono_ns - MONO) as i64, -50);
        // Preempted for 5 ms right after the first wall-clock reading, then 3 us (still
        // above PAIR_SPAN_NS), then 40 ns: the 40 ns pair ends the search.
        let now = Cell::new(MONO);
        let p = sample_with(&now, &[0, 5 * MS, 10, 3_000, 10, 40]);
        assert_eq!(p.mono_ns, MONO + 5 * MS + 10 + 3_000 + 10 + 20);
        assert_eq!(p.real_ns, WALL + 5 * MS + 10 + 3_000 + 10);
        // Preempted in every try: the tightest of PAIR_TRIES pairs is kept.
        let now = Cell::new(MONO);
        let p = sample_with(&now, &[0, 9_000, 1, 8_000, 1, 3_000, 1, 7_000, 1, 1]);
        assert_eq!(p.mono_ns, MONO + 9_000 + 1 + 8_000 + 1 + 1_500);
        assert_eq!(p.real_ns, WALL + 9_000 + 1 + 8_000 + 1);
    }

    #[test]
    fn a_preempted_transmit_stamp_conversion_no_longer_makes_the_rtt_zero() {
        // Sent at MONO, stamped by the kernel 2 us later (wall WALL + 2 us), the reply
        // arriving 6 us after that (MONO + 8 us). The transmit stamp is converted at
        // MONO + 3 us by a thread preempted for 1 ms between its wall-clock reading and its
        // monotonic one. Read that way once (wall, then monotonic) the send looks 1 ms late,
        // after the reply, and the RTT is 0; the tightest pair keeps it within 1 us.
        let now = Cell::new(MONO + 3_000);
        let tx = received_at(Some(WALL + 2_000), sample_with(&now, &[0, MS, 50, 200]));
        let r = rtt(MONO + 8_000, tx);
        assert!((5_000..=7_000).contains(&r), "rtt {r}");
        let once = ReadAt {
            real_ns: WALL + 3_000,
            mono_ns: MONO + 3_000 + MS,
        };
        assert_eq!(rtt(MONO + 8_000, received_at(Some(WALL + 2_000), once)), 0);
    }

    #[test]
    fn without_a_stamp_the_read_time_is_used() {
        let read = ReadAt {
            real_ns: WALL,
            mono_ns: MONO + 7,
        };
        assert_eq!(received_at(None, read), MONO + 7);
        assert_eq!(rtt(received_at(None, read), MONO), 7);
    }

    #[test]
    fn packets_queued_before_the_probe_left_are_not_its_replies() {
        // A packet stamped 3 ms before it was read, read 1 ms after the probe was sent:
        // it arrived before the probe left (an old reply with a wrapped sequence number).
        let read = ReadAt {
            real_ns: WALL + 3 * MS,
            mono_ns: MONO + MS,
        };
        let rx = received_at(Some(WALL), read);
        assert!(!after_send(rx, MONO));
        assert_eq!(rtt(rx, MONO), 0, "never negative");
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let read = ReadAt {
            real_ns: u64::MAX,
            mono_ns: 0,
        };
        assert_eq!(received_at(Some(u64::MAX - 1), read), 0);
        assert_eq!(received_at(Some(0), read), 0);
        let read = ReadAt {
            real_ns: 0,
            mono_ns: u64::MAX,
        };
        assert_eq!(received_at(Some(u64::MAX), read), u64::MAX);
        assert_eq!(rtt(0, u64::MAX), 0);
    }
}
