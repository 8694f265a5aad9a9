//! Asynchronous ICMP errors on a shared socket: why one target's can never fail another's probe.
//!
//! The cause. Every target of a family shares one socket. On an ICMP datagram socket with
//! `IP_RECVERR`/`IPV6_RECVERR` on (pingr needs it to see unreachable/time-exceeded errors
//! at all), the kernel's `ping_err()` handles every ICMP error whose quote names the
//! socket's identifier: it queues a copy on the error queue (`ip_icmp_error()` /
//! `ipv6_icmp_error()`; dropped silently when the receive buffer is full) and then, in
//! every case, stores the errno in the socket's pending error `sk_err`. `sk_err` is one
//! value for the whole socket, and the next call that checks it takes it: a `recvmsg` of
//! the normal queue, `getsockopt(SO_ERROR)`, and also `sendto` (`sock_alloc_send_pskb()`
//! -> `sock_error()`), which then fails with that errno without sending anything. Reading
//! the error queue resets `sk_err` only when it takes the last queued ICMP error, and
//! `ping_err()` sets `sk_err` after queueing, so an error read at once by the receiver can
//! still leave `sk_err` set behind it; an error that could not be queued always does. So a
//! target (or anything on its path) answering with bursts of ICMP errors, such as quotes
//! pingr rejects but the kernel accepts, made the next probe of *any* target of the family
//! fail with "sendto: No route to host" (the error belonged to the other target, and was
//! also read, correctly attributed, from the error queue).
//!
//! The fix, in the one send path every probe takes ([`send_to`]): a `sendto` that fails
//! with an errno an ICMP error can carry is sent again at once. A stale `sk_err` is taken
//! (exchanged with 0) by the very call it fails, so the retry cannot meet it again, and a
//! failed `sendto` sent nothing, so a retry never duplicates a probe. A genuine error of
//! this send (no route, a firewall's EPERM, EMSGSIZE) depends on the destination, not on
//! timing, and fails every attempt: it is reported after [`SEND_ATTEMPTS`] tries. A probe
//! could be misreported only if a fresh ICMP error reached the socket within each of those
//! consecutive system calls (a microsecond each), which an error *for the probe's own
//! destination* would also explain. Errors themselves are only ever attributed from the
//! error queue, by their quote (destination, identifier, sequence and payload tag). The
//! receive side takes the same care ([`recv_is_stale`]): a read that returns a stale error
//! goes on reading, and once the error queue is drained the pending error is taken too
//! ([`clear_pending`]), so it cannot keep `poll` reporting POLLERR for a queue that is empty
//! (which would have the receiver spin until the next send or reply took it). Raw sockets never get `sk_err` from ICMP (pingr does not set
//! `IP_RECVERR` on them and never connects them), so they take the same path unharmed.

use crate::sys;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

/// How many times one probe's `sendto` is tried while it fails with an ICMP-borne errno.
pub const SEND_ATTEMPTS: usize = 16;

/// Whether `errno` is one the kernel can leave in `sk_err` from an ICMP error (the errnos
/// of `ping_err()`, `icmp_err_convert[]` and `icmpv6_err_convert()`), so that a call
/// failing with it may be failing for another packet's error.
pub fn icmp_errno(errno: i32) -> bool {
    matches!(
        errno,
        libc::EHOSTUNREACH
            | libc::ENETUNREACH
            | libc::EHOSTDOWN
            | libc::ENONET
            | libc::ECONNREFUSED
            | libc::ENOPROTOOPT
            | libc::EOPNOTSUPP
            | libc::EMSGSIZE
            | libc::EACCES
            | libc::EPROTO
            | libc::EREMOTEIO
    )
}

/// Runs `send` until it succeeds, fails with an error no ICMP error can leave behind, or
/// has failed [`SEND_ATTEMPTS`] times; returns the last outcome. Pure policy: `send` is
/// the system call (or, in tests, a script of outcomes).
pub fn retry_stale<T>(mut send: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut attempt = 1;
    loop {
        match send() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if attempt < SEND_ATTEMPTS && e.raw_os_error().is_some_and(icmp_errno) => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// `sendto` of one probe on a shared ICMP socket, immune to another packet's pending error.
pub fn send_to(fd: &OwnedFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
    retry_stale(|| sys::send_to(fd, buf, addr))
}

/// Takes (and forgets) the socket's pending error, once its error queue has been read to the
/// end: every ICMP error it stood for was read from the queue, or could not be queued.
pub fn clear_pending(fd: &OwnedFd) {
    let _ = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_ERROR);
}

/// Whether a failed non-blocking read of a socket's normal queue only handed back a pending
/// asynchronous error (consumed by that read), so that reading on may still find packets.
pub fn recv_is_stale(e: &io::Error) -> bool {
    e.raw_os_error().is_some_and(icmp_errno)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn os(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    /// Plays `script` (then success) and counts the calls.
    fn play(script: &[i32]) -> (io::Result<usize>, usize) {
        let calls = RefCell::new(0usize);
        let r = retry_stale(|| {
            let n = *calls.borrow();
            *calls.borrow_mut() += 1;
            match script.get(n) {
                Some(&e) => Err(os(e)),
                None => Ok(64),
            }
        });
        let n = *calls.borrow();
        (r, n)
    }

    #[test]
    fn a_stale_error_is_retried_and_the_probe_sent() {
        let (r, calls) = play(&[libc::EHOSTUNREACH]);
        assert_eq!(r.ok(), Some(64));
        assert_eq!(calls, 2);
        // A burst of errors landing during several attempts in a row.
        let burst = [
            libc::EHOSTUNREACH,
            libc::EPROTO,
            libc::ECONNREFUSED,
            libc::EMSGSIZE,
        ];
        let (r, calls) = play(&burst);
        assert_eq!(r.ok(), Some(64));
        assert_eq!(calls, 5);
        let (r, calls) = play(&[libc::EINTR, libc::EINTR]);
        assert_eq!((r.ok(), calls), (Some(64), 3));
    }

    #[test]
    fn a_genuine_error_is_reported_after_the_attempts() {
        let (r, calls) = play(&[libc::ENETUNREACH; 40]);
        assert_eq!(
            r.err().and_then(|e| e.raw_os_error()),
            Some(libc::ENETUNREACH)
        );
        assert_eq!(calls, SEND_ATTEMPTS);
    }

    #[test]
    fn errors_no_icmp_error_can_leave_are_reported_at_once() {
        for e in [
            libc::EPERM,
            libc::ENOBUFS,
            libc::EAGAIN,
            libc::EINVAL,
            libc::EBADF,
        ] {
            let (r, calls) = play(&[e, e]);
            assert_eq!(r.err().and_then(|x| x.raw_os_error()), Some(e));
            assert_eq!(calls, 1, "errno {e}");
        }
        // A genuine EPERM after a stale error: one retry, then the EPERM.
        let (r, calls) = play(&[libc::EHOSTUNREACH, libc::EPERM]);
        assert_eq!(r.err().and_then(|x| x.raw_os_error()), Some(libc::EPERM));
        assert_eq!(calls, 2);
    }

    #[test]
    fn stale_reads() {
        assert!(recv_is_stale(&os(libc::EHOSTUNREACH)));
        assert!(recv_is_stale(&os(libc::EPROTO)));
        assert!(!recv_is_stale(&os(libc::EAGAIN)));
        assert!(!recv_is_stale(&os(libc::EBADF)));
        assert!(!recv_is_stale(&io::Error::from(io::ErrorKind::WouldBlock)));
    }
}
