//! Packet -> host: the demultiplexing table, keyed by (address, ICMP identifier).
//!
//! The table is built once before any thread starts and never changed, so looking a packet up takes
//! no lock. Several entries of the same key (one address listed twice on a datagram socket, where
//! the kernel gives every request the socket's one identifier) are chained in input order: the
//! later one starts when the earlier one is done (`before`), and a packet belongs to the first
//! entry of the chain that is not done. Pure: no I/O; "done" is asked of the caller.

use std::net::IpAddr;

use crate::packet::Ident;

const NONE: u32 = u32::MAX;

pub struct Demux {
    /// (address, identifier, host), sorted.
    keys: Vec<(IpAddr, Ident, u32)>,
    /// The next host with the same key, or NONE.
    after: Vec<u32>,
    /// The previous host with the same key, or NONE.
    before: Vec<u32>,
}

type Key = (IpAddr, Ident, u32);

/// (address, identifier) as plain integers, ordered as the pair itself is (IPv4 before
/// IPv6, then the address as a big-endian number, then the identifier), so comparing is
/// cheap: the lookup's binary search is several times faster than with `IpAddr`'s own order.
fn rank(addr: IpAddr, ident: Ident) -> (bool, u128, Ident) {
    match addr {
        IpAddr::V4(a) => (false, u128::from(u32::from(a)), ident),
        IpAddr::V6(a) => (true, u128::from(a), ident),
    }
}

fn less(a: &Key, b: &Key) -> bool {
    (rank(a.0, a.1), a.2) < (rank(b.0, b.1), b.2)
}

/// Sorts the keys (all distinct: the host index is part of each) at start-up: nothing to do
/// for a list already in order (a sweep), else a heapsort (no recursion, no allocation, and a
/// fraction of the standard sort's code; 65,536 shuffled keys take about 10 ms more).
fn sort(v: &mut [Key]) {
    if v.windows(2).all(|w| less(&w[0], &w[1])) {
        return;
    }
    for i in (0..v.len() / 2).rev() {
        sift_down(v, i);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift_down(&mut v[..end], 0);
    }
}

/// Moves `v[root]` down its max-heap until both its children are smaller.
fn sift_down(v: &mut [Key], mut root: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= v.len() {
            return;
        }
        if child + 1 < v.len() && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if less(&v[child], &v[root]) {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

impl Demux {
    /// `keys[h]` is host h's (address, identifier).
    pub fn new(keys: impl ExactSizeIterator<Item = (IpAddr, Ident)>) -> Demux {
        let n = keys.len();
        let mut sorted: Vec<(IpAddr, Ident, u32)> = keys
            .enumerate()
            .map(|(h, (a, i))| (a, i, h as u32))
            .collect();
        sort(&mut sorted);
        // The chains cost 8 bytes a host: only a run with a repeated key has them.
        let repeated = sorted
            .windows(2)
            .any(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1));
        let len = if repeated { n } else { 0 };
        let mut after = vec![NONE; len];
        let mut before = vec![NONE; len];
        for w in sorted.windows(2) {
            if (w[0].0, w[0].1) == (w[1].0, w[1].1) {
                after[w[0].2 as usize] = w[1].2;
                before[w[1].2 as usize] = w[0].2;
            }
        }
        Demux {
            keys: sorted,
            after,
            before,
        }
    }

    /// The host a packet from/about `addr` with identifier `ident` belongs to: the first of
    /// its key's chain for which `done` is false, else the last of the chain (late copies and
    /// duplicates are still counted against the entry that sent them).
    pub fn host(&self, addr: IpAddr, ident: Ident, done: impl Fn(usize) -> bool) -> Option<usize> {
        let want = rank(addr, ident);
        let i = self.keys.partition_point(|k| rank(k.0, k.1) < want);
        let &(a, id, first) = self.keys.get(i)?;
        if (a, id) != (addr, ident) {
            return None;
        }
        let mut h = first as usize;
        while done(h) {
            match self.after.get(h) {
                Some(&next) if next != NONE => h = next as usize,
                _ => break,
            }
        }
        Some(h)
    }

    /// The host that must be done before `h` may start, if any.
    pub fn before(&self, h: usize) -> Option<usize> {
        self.before
            .get(h)
            .filter(|&&b| b != NONE)
            .map(|&b| b as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_start_up_sort_orders_like_the_standard_one() {
        let mut x = 0x2545_f491_u32;
        for n in [0usize, 1, 2, 3, 7, 64, 1000] {
            let mut v: Vec<Key> = (0..n as u32)
                .map(|h| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    let a = match x % 3 {
                        0 => IpAddr::from([127, 0, (x >> 8) as u8 % 4, (x >> 16) as u8 % 4]),
                        1 => IpAddr::from([0, 0, 0, 0, 0, 0, 0, (x >> 8) as u16 % 3]),
                        _ => IpAddr::from([10, 0, 0, 1]),
                    };
                    (a, Ident((x >> 20) as u16 % 3), h)
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort(&mut v);
            assert_eq!(v, want, "{n}");
            sort(&mut v);
            assert_eq!(v, want, "{n}, sorted already");
        }
    }

    #[test]
    fn finds_every_host_of_a_shuffled_mixed_list() {
        let mut keys: Vec<(IpAddr, Ident)> = (0..3000u32)
            .map(|i| match i % 3 {
                0 => (IpAddr::from([10, 0, (i >> 8) as u8, i as u8]), Ident(5)),
                1 => (IpAddr::from([0xfe80, 0, 0, 0, 0, 0, 1, i as u16]), Ident(5)),
                _ => (IpAddr::from([10, 0, (i >> 8) as u8, i as u8]), Ident(6)),
            })
            .collect();
        keys.reverse();
        keys.swap(7, 2000);
        let d = Demux::new(keys.iter().copied());
        for (h, &(a, i)) in keys.iter().enumerate() {
            assert_eq!(d.host(a, i, |_| false), Some(h));
            assert_eq!(d.host(a, Ident(i.0 + 2), |_| false), None);
        }
    }

    #[test]
    fn finds_hosts_and_nothing_else() {
        let keys = [
            (ip("127.0.0.2"), Ident(7)),
            (ip("127.0.0.1"), Ident(7)),
            (ip("::1"), Ident(9)),
        ];
        let d = Demux::new(keys.into_iter());
        let never = |_| false;
        assert_eq!(d.host(ip("127.0.0.1"), Ident(7), never), Some(1));
        assert_eq!(d.host(ip("127.0.0.2"), Ident(7), never), Some(0));
        assert_eq!(d.host(ip("::1"), Ident(9), never), Some(2));
        assert_eq!(d.host(ip("127.0.0.1"), Ident(8), never), None);
        assert_eq!(d.host(ip("127.0.0.3"), Ident(7), never), None);
        assert_eq!(d.host(ip("::2"), Ident(9), never), None);
        assert_eq!((d.before(0), d.before(1), d.before(2)), (None, None, None));
    }

    #[test]
    fn the_same_key_twice_is_served_in_input_order() {
        let a = ip("10.0.0.1");
        let d = Demux::new(
            [
                (a, Ident(1)),
                (ip("10.0.0.2"), Ident(1)),
                (a, Ident(1)),
                (a, Ident(1)),
            ]
            .into_iter(),
        );
        assert_eq!(
            (d.before(2), d.before(3), d.before(0)),
            (Some(0), Some(2), None)
        );
        assert_eq!(d.host(a, Ident(1), |_| false), Some(0));
        assert_eq!(d.host(a, Ident(1), |h| h == 0), Some(2));
        assert_eq!(d.host(a, Ident(1), |h| h != 3), Some(3));
        assert_eq!(d.host(a, Ident(1), |_| true), Some(3));
    }
}
