//! Opening and configuring ICMP sockets: everything set on them before the privilege drop.
//!
//! It calls `socket()` of the kind the privilege policy chose, then everything set on it before the
//! privilege drop -- buffer sizes, the drop counter, TTL/TOS/PMTU options, `-I` binding, kernel
//! receive timestamps and, on raw sockets, the ICMP type filter and the locked BPF program
//! (`bpf.rs`). It decides nothing about which kind to open or what to tell the user when none can
//! be had (`privilege.rs` owns that policy), and it never reads from a socket.

use crate::bpf::{self, IdentRange};
use crate::cli::{Config, Pmtu};
use crate::error::short;
use crate::packet::{Family, Ident};
use crate::sys;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Raw,
    Datagram,
}

/// One open ICMP socket.
#[derive(Debug)]
pub struct IcmpSocket {
    pub fd: OwnedFd,
    pub kind: Kind,
    pub family: Family,
    /// Datagram sockets: the identifier the kernel puts on our requests (the bound "port").
    pub ident: Ident,
    /// The kernel's drop count of this socket (`SO_RXQ_OVFL`), the highest seen on a read.
    pub drops: Arc<AtomicU32>,
}

/// The sockets of a run, one per address family that has targets.
#[derive(Debug, Default)]
pub struct Sockets {
    pub v4: Option<IcmpSocket>,
    pub v6: Option<IcmpSocket>,
    /// The identifiers of this run's raw-socket requests: all the kernel filters let through.
    pub idents: IdentRange,
}

impl Sockets {
    /// The socket of `family`, if one is open.
    pub fn get(&self, family: Family) -> Option<&IcmpSocket> {
        match family {
            Family::V4 => self.v4.as_ref(),
            Family::V6 => self.v6.as_ref(),
        }
    }

    /// Where the socket of `family` is kept.
    pub fn slot(&mut self, family: Family) -> &mut Option<IcmpSocket> {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }
}

/// A new ICMP socket of `kind` for `family` (the caller chose the kind).
pub fn open(family: Family, kind: Kind) -> io::Result<OwnedFd> {
    let (domain, ipproto) = match family {
        Family::V4 => (libc::AF_INET, libc::IPPROTO_ICMP),
        Family::V6 => (libc::AF_INET6, libc::IPPROTO_ICMPV6),
    };
    let ty = match kind {
        Kind::Raw => libc::SOCK_RAW,
        Kind::Datagram => libc::SOCK_DGRAM,
    };
    sys::socket(domain, ty, ipproto)
}

/// A socket set up by [`configure`], with the `-v` lines about it.
pub struct Configured {
    pub socket: IcmpSocket,
    /// What its kernel filter is (raw) or why it needs none (datagram).
    pub filter: String,
    /// Why kernel receive timestamps are off, if they are.
    pub timestamps: Option<String>,
}

/// Sets `fd` up for the run (options, binding, filters, timestamps): the one place a socket is
/// configured. Everything here that needs a privilege must happen before the drop. On failure,
/// the kernel's text ([`short`]), after what was being set up for `-I` and binding.
pub fn configure(
    fd: OwnedFd,
    family: Family,
    kind: Kind,
    cfg: &Config,
    idents: IdentRange,
) -> Result<Configured, String> {
    let (ident, filter) = set_options(fd.as_fd(), family, kind, cfg, idents)?;
    let timestamps = timestamps(fd.as_fd());
    let socket = IcmpSocket {
        fd,
        kind,
        family,
        ident,
        drops: Arc::default(),
    };
    Ok(Configured {
        socket,
        filter,
        timestamps,
    })
}

/// The ICMP types a raw socket's type filter passes: echo replies and the errors the
/// decoder reads ([`bpf::ICMP_ERROR_TYPES`], [`bpf::ICMP6_ERROR_TYPES`]).
const ICMP_PASS: [u8; 6] = {
    let e = bpf::ICMP_ERROR_TYPES;
    [0, e[0], e[1], e[2], e[3], e[4]]
};
const ICMP6_PASS: [u8; 5] = {
    let e = bpf::ICMP6_ERROR_TYPES;
    [129, e[0], e[1], e[2], e[3]]
};

/// The kernel-side filters of a raw socket, and the `-v` line saying what they are: the ICMP
/// type filter, then a BPF program passing only echo replies and errors that carry one of
/// `idents` (`bpf.rs`), locked so nothing can replace it after the privilege drop. The
/// user-space checks stay whatever happens here: where a filter cannot be had (an old kernel,
/// a seccomp policy) pingr says so and reads, and checks, every ICMP packet of the host.
/// Datagram sockets need none: the kernel delivers them only their own identifier's packets.
fn kernel_filter(fd: BorrowedFd<'_>, family: Family, idents: IdentRange) -> String {
    let fam = family.name();
    let (types, prog) = match family {
        Family::V4 => (
            sys::set_icmp_filter(fd, &ICMP_PASS),
            bpf::ipv4_program(idents),
        ),
        Family::V6 => (
            sys::set_icmp6_filter(fd, &ICMP6_PASS),
            bpf::icmp6_program(idents),
        ),
    };
    let types = match types {
        Ok(()) => String::new(),
        Err(e) => format!(" (no ICMP type filter: {})", short(&e)),
    };
    match sys::attach_filter(fd, &prog) {
        Err(e) => format!(
            "{fam}: no kernel filter ({}){types}: every ICMP packet of the host is read and checked by pingr",
            short(&e)
        ),
        Ok(()) => {
            let lock = match sys::lock_filter(fd) {
                Ok(()) => "locked",
                Err(_) => "not locked",
            };
            format!("{fam}: kernel filter attached ({lock}){types}: only echo replies and errors quoting {idents} wake pingr")
        }
    }
}

/// Turns kernel receive timestamps on and checks that they stayed on; what `-v` adds to the
/// socket's note if not (RTTs are then taken when each packet is read, see rtt.rs).
fn timestamps(fd: BorrowedFd<'_>) -> Option<String> {
    match sys::enable_timestamps(fd) {
        Ok(true) => None,
        Ok(false) => {
            Some("kernel receive timestamps did not stay on: RTTs taken at read time".into())
        }
        Err(e) => Some(format!(
            "no kernel receive timestamps ({}): RTTs taken at read time",
            short(&e)
        )),
    }
}

/// The names of one family's socket options: what a socket is asked to report, then `-t`,
/// `-Q` and `-M`'s.
struct IpOptions {
    level: libc::c_int,
    /// Set to 1 in this order, each on every socket or (true) on datagram sockets only: the
    /// errors and the TTL / hop limit the receive path reads.
    reports: &'static [(libc::c_int, bool)],
    /// `-t`: the TTL (IPv4) or unicast hop limit (IPv6).
    ttl: libc::c_int,
    /// `-Q`: the TOS byte (IPv4) or traffic class (IPv6).
    tos: libc::c_int,
    /// `-M`: the option, and its values for `do`, `dont` and `want`.
    mtu_discover: libc::c_int,
    pmtu: [libc::c_int; 3],
}

const IPV4_OPTIONS: IpOptions = IpOptions {
    level: libc::IPPROTO_IP,
    reports: &[(libc::IP_RECVERR, true), (libc::IP_RECVTTL, true)],
    ttl: libc::IP_TTL,
    tos: libc::IP_TOS,
    mtu_discover: libc::IP_MTU_DISCOVER,
    pmtu: [
        libc::IP_PMTUDISC_DO,
        libc::IP_PMTUDISC_DONT,
        libc::IP_PMTUDISC_WANT,
    ],
};

const IPV6_OPTIONS: IpOptions = IpOptions {
    level: libc::IPPROTO_IPV6,
    reports: &[(libc::IPV6_RECVERR, true), (libc::IPV6_RECVHOPLIMIT, false)],
    ttl: libc::IPV6_UNICAST_HOPS,
    tos: libc::IPV6_TCLASS,
    mtu_discover: libc::IPV6_MTU_DISCOVER,
    pmtu: [
        libc::IPV6_PMTUDISC_DO,
        libc::IPV6_PMTUDISC_DONT,
        libc::IPV6_PMTUDISC_WANT,
    ],
};

/// The family's options, in order: what the socket reports (see [`IpOptions`]), then `-t`,
/// `-Q` and `-M`.
fn family_options(fd: BorrowedFd<'_>, family: Family, kind: Kind, cfg: &Config) -> io::Result<()> {
    let o = match family {
        Family::V4 => &IPV4_OPTIONS,
        Family::V6 => &IPV6_OPTIONS,
    };
    for &(name, dgram_only) in o.reports {
        if kind == Kind::Datagram || !dgram_only {
            sys::setsockopt_int(fd, o.level, name, 1)?;
        }
    }
    let pmtu = cfg.pmtu.map(|p| match p {
        Pmtu::Do => o.pmtu[0],
        Pmtu::Dont => o.pmtu[1],
        Pmtu::Want => o.pmtu[2],
    });
    let asked = [
        (o.ttl, cfg.ttl.map(i32::from)),
        (o.tos, cfg.tos.map(i32::from)),
        (o.mtu_discover, pmtu),
    ];
    for (name, v) in asked {
        if let Some(v) = v {
            sys::setsockopt_int(fd, o.level, name, v)?;
        }
    }
    Ok(())
}

/// Sets a socket's options, filters and binding; returns its identifier (datagram sockets: the kernel's) and the `-v` line
/// about its kernel filter.
fn set_options(
    fd: BorrowedFd<'_>,
    family: Family,
    kind: Kind,
    cfg: &Config,
    idents: IdentRange,
) -> Result<(Ident, String), String> {
    // First, so that no foreign packet is queued for long on a raw socket.
    let filter = (kind == Kind::Raw).then(|| kernel_filter(fd, family, idents));
    let _ = sys::enable_drop_count(fd);
    let _ = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
    let _ = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, 1 << 20);
    let mut source: Option<IpAddr> = None;
    if let Some(iface) = &cfg.interface {
        match iface.parse::<IpAddr>() {
            Ok(ip) => source = Some(ip),
            Err(_) => {
                sys::bind_to_device(fd, iface).map_err(|e| format!("-I {iface}: {}", short(&e)))?
            }
        }
    }
    family_options(fd, family, kind, cfg).map_err(os)?;
    let src_matches = source.map_or(true, |s| Family::of(s) == family);
    if kind == Kind::Datagram || source.is_some() && src_matches {
        let ip = match (source.filter(|_| src_matches), family) {
            (Some(ip), _) => ip,
            (None, Family::V4) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (None, Family::V6) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        sys::bind(fd, &SocketAddr::new(ip, 0)).map_err(|e| format!("bind {ip}: {}", short(&e)))?;
    }
    if kind == Kind::Datagram {
        let ident = Ident(sys::local_addr(fd).map_err(os)?.port());
        let note = format!(
            "{}: identifier {ident} (the kernel's): no kernel filter needed, the kernel gives a datagram ICMP socket only its own identifier's replies and errors",
            family.name()
        );
        return Ok((ident, note));
    }
    Ok((Ident(0), filter.unwrap_or_default()))
}

/// An error's text, as the messages give it.
fn os(e: io::Error) -> String {
    short(&e)
}
