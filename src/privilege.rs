//! Privilege policy: which ICMP socket each address family gets, why, what to tell the user
//! when none can be had, and the drop of every capability (and of a setuid/setgid identity)
//! once the sockets are open and configured. Decisions are made by trying `socket()`, never
//! by reading sysctls; sysctls and ids are read only to explain a failure. Everything that
//! needs a privilege (raw sockets, `SO_BINDTODEVICE`) happens in `open`, before `drop_all`.

use crate::bpf::{self, IdentRange};
use crate::cli::{Config, Pmtu};
use crate::error::Error;
use crate::packet::Proto;
use crate::sys;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

pub const CAP_NET_RAW: u32 = 13;
const NET_RAW_BIT: u64 = 1 << CAP_NET_RAW;

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
    pub proto: Proto,
    /// Datagram sockets: the identifier the kernel puts on our requests (the bound "port").
    pub ident: u16,
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

/// What `open` learned, for `-v` and for error messages.
pub struct Opened {
    pub sockets: Sockets,
    pub notes: Vec<String>,
}

/// The calling thread's capability sets (zero if they cannot be read).
pub fn caps() -> sys::CapSets {
    sys::capget().unwrap_or_default()
}

/// With a `cap_net_raw+p` file (or a permitted-only capability) CAP_NET_RAW is not effective
/// at start: raise it for the socket phase only. `drop_all` clears every set right after.
fn raise_net_raw() {
    let c = caps();
    if c.permitted & NET_RAW_BIT != 0 && c.effective & NET_RAW_BIT == 0 {
        let _ = sys::capset(sys::CapSets {
            effective: c.effective | NET_RAW_BIT,
            ..c
        });
    }
}

fn raw_socket(domain: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    sys::socket(domain, libc::SOCK_RAW, proto)
}

fn family(proto: Proto) -> &'static str {
    match proto {
        Proto::V4 => "IPv4",
        Proto::V6 => "IPv6",
    }
}

/// The kernel-side filters of a raw socket, and the `-v` line saying what they are: the ICMP
/// type filter, then a BPF program passing only echo replies and errors that carry one of
/// `idents` (`bpf.rs`), locked so nothing can replace it after the privilege drop. The
/// user-space checks stay whatever happens here: where a filter cannot be had (an old kernel,
/// a seccomp policy) pingr says so and reads, and checks, every ICMP packet of the host.
/// Datagram sockets need none: the kernel delivers them only their own identifier's packets.
fn kernel_filter(fd: &OwnedFd, proto: Proto, idents: IdentRange) -> String {
    let fam = family(proto);
    let (types, prog) = match proto {
        Proto::V4 => {
            let mut t = vec![0];
            t.extend(bpf::ICMP_ERROR_TYPES);
            (sys::set_icmp_filter(fd, &t), bpf::ipv4_program(idents))
        }
        Proto::V6 => {
            let mut t = vec![129];
            t.extend(bpf::ICMP6_ERROR_TYPES);
            (sys::set_icmp6_filter(fd, &t), bpf::icmp6_program(idents))
        }
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

fn configure(
    fd: &OwnedFd,
    proto: Proto,
    kind: Kind,
    cfg: &Config,
    idents: IdentRange,
) -> io::Result<(u16, String)> {
    // First, so that no foreign packet is queued for long on a raw socket.
    let filter = (kind == Kind::Raw).then(|| kernel_filter(fd, proto, idents));
    let _ = sys::enable_drop_count(fd);
    let _ = sys::enable_timestamps(fd);
    let _ = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
    let _ = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, 1 << 20);
    let mut source: Option<IpAddr> = None;
    if let Some(iface) = &cfg.interface {
        match iface.parse::<IpAddr>() {
            Ok(ip) => source = Some(ip),
            Err(_) => {
                sys::bind_to_device(fd, iface).map_err(|e| annotate(e, &format!("-I {iface}")))?
            }
        }
    }
    match proto {
        Proto::V4 => {
            if kind == Kind::Datagram {
                sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_RECVERR, 1)?;
                sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_RECVTTL, 1)?;
            }
            if let Some(ttl) = cfg.ttl {
                sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL, i32::from(ttl))?;
            }
            if let Some(tos) = cfg.tos {
                sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TOS, i32::from(tos))?;
            }
            if let Some(p) = cfg.pmtu {
                let v = match p {
                    Pmtu::Do => libc::IP_PMTUDISC_DO,
                    Pmtu::Dont => libc::IP_PMTUDISC_DONT,
                    Pmtu::Want => libc::IP_PMTUDISC_WANT,
                };
                sys::setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, v)?;
            }
        }
        Proto::V6 => {
            if kind == Kind::Datagram {
                sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)?;
            }
            sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
            if let Some(ttl) = cfg.ttl {
                sys::setsockopt_int(
                    fd,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_UNICAST_HOPS,
                    i32::from(ttl),
                )?;
            }
            if let Some(tos) = cfg.tos {
                sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, i32::from(tos))?;
            }
            if let Some(p) = cfg.pmtu {
                let v = match p {
                    Pmtu::Do => libc::IPV6_PMTUDISC_DO,
                    Pmtu::Dont => libc::IPV6_PMTUDISC_DONT,
                    Pmtu::Want => libc::IPV6_PMTUDISC_WANT,
                };
                sys::setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, v)?;
            }
        }
    }
    let src_matches = source.map_or(true, |s| s.is_ipv4() == (proto == Proto::V4));
    if kind == Kind::Datagram || source.is_some() && src_matches {
        let ip = match (source.filter(|_| src_matches), proto) {
            (Some(ip), _) => ip,
            (None, Proto::V4) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (None, Proto::V6) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        sys::bind(fd, &SocketAddr::new(ip, 0)).map_err(|e| annotate(e, &format!("bind {ip}")))?;
    }
    if kind == Kind::Datagram {
        let ident = sys::local_addr(fd)?.port();
        let note = format!(
            "{}: identifier {ident} (the kernel's): no kernel filter needed, the kernel gives a datagram ICMP socket only its own identifier's replies and errors",
            family(proto)
        );
        return Ok((ident, note));
    }
    Ok((0, filter.unwrap_or_default()))
}

fn annotate(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {}", short(&e)))
}

/// An io::Error's text without the "(os error N)" tail.
pub fn short(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Opens and configures the sockets the targets need; raw sockets get kernel filters that pass
/// only `idents` (the identifiers the engine will use). Fails with exit 4 and one line naming
/// the cause and the fix when a family has no usable socket.
pub fn open(
    need_v4: bool,
    need_v6: bool,
    cfg: &Config,
    idents: IdentRange,
) -> Result<Opened, Error> {
    let mut opened = Opened {
        sockets: Sockets {
            idents,
            ..Sockets::default()
        },
        notes: Vec::new(),
    };
    raise_net_raw();
    let wanted = [(need_v4, Proto::V4), (need_v6, Proto::V6)];
    for (need, proto) in wanted {
        if !need {
            continue;
        }
        let (domain, ipproto, fam) = match proto {
            Proto::V4 => (libc::AF_INET, libc::IPPROTO_ICMP, "IPv4"),
            Proto::V6 => (libc::AF_INET6, libc::IPPROTO_ICMPV6, "IPv6"),
        };
        let raw_err = match raw_socket(domain, ipproto) {
            Ok(fd) => {
                let (ident, filter) = configure(&fd, proto, Kind::Raw, cfg, idents)
                    .map_err(|e| sys_error(fam, &e))?;
                opened
                    .notes
                    .push(format!("{fam}: raw ICMP socket (CAP_NET_RAW is available)"));
                opened.notes.push(filter);
                let s = IcmpSocket {
                    fd,
                    kind: Kind::Raw,
                    proto,
                    ident,
                    drops: Arc::default(),
                };
                match proto {
                    Proto::V4 => opened.sockets.v4 = Some(s),
                    Proto::V6 => opened.sockets.v6 = Some(s),
                }
                continue;
            }
            Err(e) => e,
        };
        match sys::socket(domain, libc::SOCK_DGRAM, ipproto) {
            Ok(fd) => {
                let (ident, filter) = configure(&fd, proto, Kind::Datagram, cfg, idents)
                    .map_err(|e| sys_error(fam, &e))?;
                opened.notes.push(format!(
                    "{fam}: ICMP datagram socket (raw socket refused: {}; net.ipv4.ping_group_range admits this user)",
                    short(&raw_err)
                ));
                opened.notes.push(filter);
                let s = IcmpSocket {
                    fd,
                    kind: Kind::Datagram,
                    proto,
                    ident,
                    drops: Arc::default(),
                };
                match proto {
                    Proto::V4 => opened.sockets.v4 = Some(s),
                    Proto::V6 => opened.sockets.v6 = Some(s),
                }
            }
            Err(dgram_err) => return Err(Error::System(explain(fam, &raw_err, &dgram_err))),
        }
    }
    Ok(opened)
}

fn sys_error(fam: &str, e: &io::Error) -> Error {
    Error::System(format!("{fam} socket setup failed: {}", short(e)))
}

fn ping_group_range() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// One line: what is wrong, and the fixes that apply.
fn explain(fam: &str, raw_err: &io::Error, dgram_err: &io::Error) -> String {
    let af = |e: &io::Error| {
        matches!(
            e.raw_os_error(),
            Some(libc::EAFNOSUPPORT) | Some(libc::EPROTONOSUPPORT)
        )
    };
    if af(raw_err) && af(dgram_err) {
        return format!(
            "cannot open an {fam} ICMP socket: {fam} is disabled or not supported on this system"
        );
    }
    let exe = std::env::current_exe().ok();
    let path = exe
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "pingr".into());
    let c = caps();
    let ids = sys::ids().ok();
    let gid = ids.map(|i| i.egid).unwrap_or(0);
    let range = ping_group_range();
    let range_text = match range {
        Some((lo, hi)) => format!("{lo} {hi}"),
        None => "unknown".into(),
    };
    let mut cause = String::new();
    let file_caps = exe.as_deref().is_some_and(sys::has_file_caps);
    let nnp = sys::no_new_privs().unwrap_or(false);
    let bounded = sys::in_bounding_set(CAP_NET_RAW).unwrap_or(true);
    if c.permitted & NET_RAW_BIT == 0 {
        if file_caps && !bounded {
            cause.push_str("CAP_NET_RAW is not in this process's bounding set (a container without --cap-add=net_raw, or a narrow CapabilityBoundingSet), so the file capability cannot apply");
        } else if file_caps && nnp {
            cause.push_str(
                "the file capability on the binary was not granted because no_new_privs is set",
            );
        } else if file_caps {
            cause.push_str("the file capability on the binary was not granted (is the file system mounted nosuid?)");
        } else {
            cause.push_str("no CAP_NET_RAW");
        }
    } else {
        cause.push_str(&format!("the raw socket was refused ({})", short(raw_err)));
    }
    let dgram = match dgram_err.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => {
            format!("group {gid} is outside net.ipv4.ping_group_range ({range_text})")
        }
        _ => format!(
            "the ICMP datagram socket was refused ({})",
            short(dgram_err)
        ),
    };
    format!(
        "cannot open an {fam} ICMP socket: {cause}, and {dgram}; fix: sudo make install (applies cap_net_raw+ep), or setcap cap_net_raw+ep {path}, or sysctl -w net.ipv4.ping_group_range='0 {gid}', or in a container --cap-add=net_raw"
    )
}

/// What the drop found and left.
pub struct Dropped {
    pub after: sys::CapSets,
    pub was_setid: bool,
}

/// Leaves a setuid/setgid identity for the real ids, drops every capability (effective,
/// permitted, inheritable, ambient), sets no_new_privs, and checks that it all took. Must run on
/// the main thread before any other thread exists.
pub fn drop_all() -> Result<Dropped, Error> {
    let fail = |what: &str, e: io::Error| {
        Error::System(format!("could not drop privileges ({what}: {})", short(&e)))
    };
    let ids = sys::ids().map_err(|e| fail("getresuid", e))?;
    let was_setid = ids.ruid != ids.euid
        || ids.ruid != ids.suid
        || ids.rgid != ids.egid
        || ids.rgid != ids.sgid;
    if was_setid {
        sys::become_user(ids.ruid, ids.rgid).map_err(|e| fail("setresuid", e))?;
        let now = sys::ids().map_err(|e| fail("getresuid", e))?;
        if [now.euid, now.suid] != [ids.ruid; 2] || [now.egid, now.sgid] != [ids.rgid; 2] {
            return Err(Error::System(
                "could not return to the real user and group ids".into(),
            ));
        }
    }
    sys::clear_ambient().map_err(|e| fail("PR_CAP_AMBIENT", e))?;
    sys::capset(sys::CapSets::default()).map_err(|e| fail("capset", e))?;
    sys::set_no_new_privs().map_err(|e| fail("PR_SET_NO_NEW_PRIVS", e))?;
    let after = sys::capget().map_err(|e| fail("capget", e))?;
    if after != sys::CapSets::default() || !sys::no_new_privs().unwrap_or(false) {
        return Err(Error::System(
            "capabilities are still held after the drop; refusing to run".into(),
        ));
    }
    Ok(Dropped { after, was_setid })
}

/// The ambient set, from /proc/self/status (for -v only).
fn ambient() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("CapAmb:")
                    .map(|v| format!("{:#x}", u64::from_str_radix(v.trim(), 16).unwrap_or(0)))
            })
        })
        .unwrap_or_else(|| "?".into())
}

/// The verbose line of the capability sets.
pub fn describe(c: &sys::CapSets) -> String {
    format!(
        "eff={:#x} prm={:#x} inh={:#x} amb={}",
        c.effective,
        c.permitted,
        c.inheritable,
        ambient()
    )
}

impl Sockets {
    /// The kernel drop counters of the open sockets, by family name (for `-v` after the run).
    pub fn drop_counters(&self) -> Vec<(&'static str, Arc<AtomicU32>)> {
        let mut v = Vec::new();
        if let Some(s) = &self.v4 {
            v.push(("IPv4", Arc::clone(&s.drops)));
        }
        if let Some(s) = &self.v6 {
            v.push(("IPv6", Arc::clone(&s.drops)));
        }
        v
    }
}
