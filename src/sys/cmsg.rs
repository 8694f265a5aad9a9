//! `recvmsg` with its control messages: what the kernel says about a read besides the bytes.
//!
//! Those are receive timestamps, the TTL or hop limit, the drop count and the error queue's ICMP
//! errors. Every control message is bounded by the buffer, never by the kernel's claim alone.

use super::ffi::{
    cvt, from_raw_addr, len_of, SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6, SO_TIMESTAMPING_OLD,
};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};

/// What the socket error queue (`IP_RECVERR`/`IPV6_RECVERR`) said about an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtError {
    pub icmp_type: u8,
    pub code: u8,
    pub info: u32,
    /// The router (or host) that sent the ICMP error.
    pub offender: Option<IpAddr>,
}

/// What one `recvmsg` returned besides the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecvMeta {
    pub len: usize,
    pub src: Option<SocketAddr>,
    /// Kernel receive time, CLOCK_REALTIME, nanoseconds since the epoch.
    pub kernel_ns: Option<u64>,
    /// TTL (IPv4, `IP_RECVTTL`) or hop limit (IPv6, `IPV6_RECVHOPLIMIT`).
    pub ttl: Option<u8>,
    pub ext_err: Option<ExtError>,
    /// `SO_RXQ_OVFL`: how many packets the kernel has dropped on this socket since it was
    /// opened because its receive buffer was full (on Linux 6.18, packets its filter refuses
    /// are not counted).
    pub drops: Option<u32>,
    /// `SCM_TIMESTAMPING`'s software stamp (CLOCK_REALTIME ns): on the error queue, when a
    /// request left (see `enable_tx_timestamps`).
    pub stamping_ns: Option<u64>,
}

/// Control-message buffer, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct CmsgBuf([u8; 256]);

/// `recvmsg(2)` without blocking (`MSG_DONTWAIT`); `errqueue` reads the socket error queue.
/// Control messages are decoded here, with the kernel's own bounds (CMSG_* walk).
pub fn recv_msg(fd: impl AsFd, buf: &mut [u8], errqueue: bool) -> io::Result<RecvMeta> {
    // SAFETY: all-zero sockaddr_storage and msghdr are valid values.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let mut cbuf = CmsgBuf([0; 256]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = std::ptr::addr_of_mut!(storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.0.len() as _;
    let flags = libc::MSG_DONTWAIT | if errqueue { libc::MSG_ERRQUEUE } else { 0 };
    // SAFETY: msg points at live buffers (storage, iov -> buf, cbuf) of the sizes given.
    let n = len_of(cvt(unsafe {
        libc::recvmsg(fd.as_fd().as_raw_fd(), &mut msg, flags)
    })?);
    let mut meta = RecvMeta {
        len: n.min(buf.len()),
        src: from_raw_addr(&storage, msg.msg_namelen),
        ..RecvMeta::default()
    };
    // Every control message's data is handed on as a slice of cbuf whose length is the
    // smaller of what its header claims and what the buffer holds after it: the kernel's
    // claim is never trusted to stay within the buffer.
    let base = cbuf.0.as_ptr() as usize;
    let filled = (msg.msg_controllen as usize).min(cbuf.0.len());
    // The walk below is bounded by msg_controllen: make it the clamped length.
    msg.msg_controllen = filled as _;
    // SAFETY: msg describes cbuf with at most cbuf's length; CMSG_FIRSTHDR returns null or
    // a header lying wholly inside those `filled` bytes.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: cmsg is non-null and its header lies inside cbuf (FIRSTHDR/NXTHDR check
        // that a whole cmsghdr fits in msg_controllen); cbuf is 8-aligned, as is every
        // header the walk returns.
        let (level, ty, claimed) = unsafe {
            (
                (*cmsg).cmsg_level,
                (*cmsg).cmsg_type,
                (*cmsg).cmsg_len as usize,
            )
        };
        // SAFETY: CMSG_DATA and CMSG_LEN only compute an address and a size; nothing is read.
        let (data_at, hdr_len) = unsafe {
            (
                (libc::CMSG_DATA(cmsg) as usize).saturating_sub(base),
                libc::CMSG_LEN(0) as usize,
            )
        };
        let len = claimed
            .saturating_sub(hdr_len)
            .min(filled.saturating_sub(data_at));
        let data = cbuf
            .0
            .get(data_at..data_at.saturating_add(len))
            .unwrap_or(&[]);
        decode_cmsg(level, ty, data, &mut meta);
        // SAFETY: msg and cmsg are valid as above; NXTHDR returns null at the end.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    Ok(meta)
}

/// Reads a `T` (plain old data) from the start of `data`, if `data` is long enough.
fn read_pod<T: Copy>(data: &[u8]) -> Option<T> {
    if data.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: data holds at least size_of::<T>() readable bytes (checked just above), the
    // read is unaligned-safe, and T is only instantiated with C structs (timespec,
    // sock_extended_err) for which any bit pattern is a valid value.
    Some(unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<T>()) })
}

/// Decodes one control message (`data`: its payload, already clamped to the buffer) into
/// `meta`; unknown, short or odd messages are ignored.
pub(super) fn decode_cmsg(level: libc::c_int, ty: libc::c_int, data: &[u8], meta: &mut RecvMeta) {
    match (level, ty) {
        (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
            if let Some(ts) = read_pod::<libc::timespec>(data) {
                if ts.tv_sec >= 0 && (0..1_000_000_000).contains(&ts.tv_nsec) {
                    meta.kernel_ns = Some(
                        (ts.tv_sec as u64)
                            .saturating_mul(1_000_000_000)
                            .saturating_add(ts.tv_nsec as u64),
                    );
                }
            }
        }
        (libc::SOL_SOCKET, SO_TIMESTAMPING_OLD) => {
            // struct scm_timestamping starts with the software stamp.
            if let Some(ts) = read_pod::<libc::timespec>(data) {
                if ts.tv_sec > 0 && (0..1_000_000_000).contains(&ts.tv_nsec) {
                    meta.stamping_ns = Some(
                        (ts.tv_sec as u64)
                            .saturating_mul(1_000_000_000)
                            .saturating_add(ts.tv_nsec as u64),
                    );
                }
            }
        }
        (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) => {
            if let Some(b) = data.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
                meta.drops = Some(u32::from_ne_bytes(b));
            }
        }
        (libc::IPPROTO_IP, libc::IP_TTL) | (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
            if let Some(b) = data.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
                meta.ttl = u8::try_from(i32::from_ne_bytes(b)).ok();
            }
        }
        (libc::IPPROTO_IP, libc::IP_RECVERR) | (libc::IPPROTO_IPV6, libc::IPV6_RECVERR) => {
            let Some(ee) = read_pod::<libc::sock_extended_err>(data) else {
                return;
            };
            if ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6 {
                return;
            }
            // SO_EE_OFFENDER: the sockaddr of the sender follows the struct, if it fits.
            let off = data
                .get(size_of::<libc::sock_extended_err>()..)
                .unwrap_or(&[]);
            meta.ext_err = Some(ExtError {
                icmp_type: ee.ee_type,
                code: ee.ee_code,
                info: ee.ee_info,
                offender: offender_addr(off),
            });
        }
        _ => {}
    }
}

/// The address in an `SO_EE_OFFENDER` sockaddr (`off`: the bytes after the
/// `sock_extended_err`, already clamped to the buffer).
fn offender_addr(off: &[u8]) -> Option<IpAddr> {
    if off.len() < size_of::<libc::sockaddr_in>() {
        return None;
    }
    // SAFETY: all-zero sockaddr_storage is valid.
    let mut st: libc::sockaddr_storage = unsafe { zeroed() };
    let take = off.len().min(size_of::<libc::sockaddr_storage>());
    // SAFETY: `take` is at most off.len() (readable source) and at most the size of st
    // (writable destination); the two do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(off.as_ptr(), std::ptr::addr_of_mut!(st).cast::<u8>(), take)
    };
    from_raw_addr(&st, take as libc::socklen_t).map(|a| a.ip())
}
