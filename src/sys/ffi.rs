//! The C side every file of `sys` shares: the one `cvt` check of a C call's return value.
//!
//! Also the Linux constants the `libc` crate lacks on some targets, and socket addresses
//! in their C form. A leaf: `mod.rs`, `cmsg.rs` and `caps.rs` import from it; it imports
//! nothing of theirs.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Linux constants the `libc` crate does not export for every target. Every other
/// constant and struct comes from `libc` for the target being built (issue 13): socket
/// option numbers differ between architectures, and `time_t`, `c_long` and the `msghdr`
/// length fields differ between glibc, musl and 32/64-bit targets, so nothing here
/// assumes their sizes. ICMP_FILTER (linux/icmp.h), ICMP6_FILTER (linux/icmpv6.h) and the
/// capability ABI version (linux/capability.h) have one value on every architecture.
pub(super) const SOL_RAW: libc::c_int = libc::SOL_RAW;
pub(super) const ICMP_FILTER: libc::c_int = 1;
pub(super) const ICMP6_FILTER: libc::c_int = 1;
// Issue 9: software transmit timestamps (the pre-time64 SO_TIMESTAMPING, like SCM_TIMESTAMPNS).
pub(super) const SO_TIMESTAMPING_OLD: libc::c_int = 37;
pub(super) const SOF_TIMESTAMPING_TX_SOFTWARE: libc::c_int = 1 << 1;
pub(super) const SOF_TIMESTAMPING_SOFTWARE: libc::c_int = 1 << 4;
pub(super) const PR_CAP_AMBIENT: libc::c_int = libc::PR_CAP_AMBIENT;
pub(super) const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong =
    libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong;
pub(super) const PR_SET_NO_NEW_PRIVS: libc::c_int = libc::PR_SET_NO_NEW_PRIVS;
pub(super) const PR_GET_NO_NEW_PRIVS: libc::c_int = libc::PR_GET_NO_NEW_PRIVS;
pub(super) const PR_CAPBSET_READ: libc::c_int = libc::PR_CAPBSET_READ;
pub(super) const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
pub(super) const SO_EE_ORIGIN_ICMP: u8 = 2;
pub(super) const SO_EE_ORIGIN_ICMP6: u8 = 3;

/// A C return value that reports failure in-band, errno saying why: -1 for the calls that
/// return an integer, 0 for `if_nametoindex` (no interface has index 0), a null pointer for
/// `localtime_r`.
pub(super) trait Failed: Copy {
    fn failed(self) -> bool;
}

macro_rules! minus_one_fails {
    ($($t:ty)*) => {$(
        impl Failed for $t {
            fn failed(self) -> bool {
                self == -1
            }
        }
    )*};
}
// c_int, c_long and ssize_t are one of these on every target (c_long is i32 on 32-bit).
minus_one_fails!(i32 i64 isize);

impl Failed for libc::c_uint {
    fn failed(self) -> bool {
        self == 0
    }
}

impl<T> Failed for *mut T {
    fn failed(self) -> bool {
        self.is_null()
    }
}

/// The one check of a C call that reports failure in its return value and errno (socket2's
/// `cvt`): every such libc call of `sys` goes through it.
pub(super) fn cvt<T: Failed>(ret: T) -> io::Result<T> {
    if ret.failed() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The same check for the pthread-style calls that return the error number itself.
pub(super) fn cvt_errno(ret: libc::c_int) -> io::Result<()> {
    match ret {
        0 => Ok(()),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

/// A byte count from a successful `cvt` (never negative there).
pub(super) fn len_of(n: libc::ssize_t) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// A socket address in its C form.
pub(super) struct RawAddr {
    pub(super) storage: libc::sockaddr_storage,
    pub(super) len: libc::socklen_t,
}

pub(super) fn raw_addr(addr: &SocketAddr) -> RawAddr {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in.
            unsafe {
                std::ptr::write(
                    std::ptr::addr_of_mut!(storage).cast::<libc::sockaddr_in>(),
                    sin,
                )
            };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in6.
            unsafe {
                std::ptr::write(
                    std::ptr::addr_of_mut!(storage).cast::<libc::sockaddr_in6>(),
                    sin6,
                )
            };
            size_of::<libc::sockaddr_in6>()
        }
    };
    RawAddr {
        storage,
        len: len as libc::socklen_t,
    }
}

pub(super) fn from_raw_addr(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    let len = len as usize;
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says sockaddr_in and the kernel wrote at least its size.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the family says sockaddr_in6 and the kernel wrote at least its size.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
