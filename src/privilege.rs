//! Privilege policy: which ICMP socket each family gets, what to say when none, and the drop.
//!
//! It decides which address families get a socket (from the command line alone), which ICMP socket
//! each gets and why, what to tell the user when none can be had, the drop of every capability (and
//! of a setuid/setgid identity) once the sockets are open and configured, and, after resolution,
//! which targets the sockets serve ([`plan`]). Decisions are made by trying `socket()`, never by
//! reading sysctls; sysctls and ids are read only to explain a failure. Everything that needs a
//! privilege (raw sockets, `SO_BINDTODEVICE`) happens in `open`, before `drop_all`; nothing here
//! reads a target file or a name. The `socket()` calls and everything set on the sockets are in
//! `socket.rs`.

use crate::bpf::IdentRange;
use crate::cli::Config;
use crate::error::{short, Call, Error, Held};
use crate::packet::Family;
use crate::resolve::{self, Target};
use crate::socket;
use crate::sys;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::net::IpAddr;

// The socket types live in socket.rs; these paths stay for the engine and steps.rs.
pub use crate::socket::{IcmpSocket, Kind, Sockets};

pub const CAP_NET_RAW: u32 = 13;
const NET_RAW_BIT: u64 = 1 << CAP_NET_RAW;

/// What `open` made and learned, for the run and for error messages.
pub struct Opened {
    pub sockets: Sockets,
    /// Families whose socket could not be had, with the one-line diagnosis and fix.
    pub refused: Refused,
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

/// A choice of address families (IPv4, IPv6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Families {
    pub v4: bool,
    pub v6: bool,
}

impl Families {
    fn add(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(_) => self.v4 = true,
            IpAddr::V6(_) => self.v6 = true,
        }
    }
}

/// Which address families get a socket, decided from the command line alone (before any file
/// or name is read): a family `-4`/`-6` rules out is never opened; literal addresses and `-g`
/// prefixes name their own family; a name or a `-f` file (its content is not read yet) may
/// need either.
pub fn families_to_open(cfg: &Config) -> Families {
    let either = Families { v4: true, v6: true };
    let mut f = if cfg.files.is_empty() {
        Families::default()
    } else {
        either
    };
    for t in &cfg.targets {
        match resolve::literal(t) {
            Some(ip) => f.add(ip),
            None => f = either,
        }
    }
    for c in &cfg.cidrs {
        f.add(c.addr);
    }
    Families {
        v4: f.v4 && cfg.family != Some(Family::V6),
        v6: f.v6 && cfg.family != Some(Family::V4),
    }
}

/// Per address family: why no target of that family can be served (None: it can).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refused {
    pub v4: Option<String>,
    pub v6: Option<String>,
}

impl Refused {
    pub fn get(&self, family: Family) -> Option<&String> {
        match family {
            Family::V4 => self.v4.as_ref(),
            Family::V6 => self.v6.as_ref(),
        }
    }
    fn set(&mut self, family: Family, why: String) {
        match family {
            Family::V4 => self.v4 = Some(why),
            Family::V6 => self.v6 = Some(why),
        }
    }
}

/// Opens and configures one ICMP socket: raw if CAP_NET_RAW allows, else the kernel's
/// datagram socket. The one place a socket is set up (options, filters, binding); everything
/// that needs a privilege belongs here, because `drop_all` follows. On failure, the one-line
/// diagnosis with the fix. Its two `-v` lines (the socket, its filter) go to `notes`.
fn open_family(
    family: Family,
    cfg: &Config,
    idents: IdentRange,
    notes: &mut Vec<String>,
) -> Result<IcmpSocket, String> {
    let fam = family.name();
    let (fd, kind, note) = match socket::open(family, Kind::Raw) {
        Ok(fd) => {
            let note = format!("{fam}: raw ICMP socket (CAP_NET_RAW is available)");
            (fd, Kind::Raw, note)
        }
        Err(raw_err) => match socket::open(family, Kind::Datagram) {
            Ok(fd) => {
                let note = format!(
                    "{fam}: ICMP datagram socket (raw socket refused: {}; net.ipv4.ping_group_range admits this user)",
                    short(&raw_err)
                );
                (fd, Kind::Datagram, note)
            }
            Err(dgram_err) => return Err(explain(fam, &raw_err, &dgram_err)),
        },
    };
    let set = socket::configure(fd, family, kind, cfg, idents)
        .map_err(|e| format!("{fam} socket setup failed: {e}"))?;
    notes.push(match set.timestamps {
        Some(why) => format!("{note}; {why}"),
        None => note,
    });
    notes.push(set.filter);
    Ok(set.socket)
}

/// Opens and configures a socket for each family in `want`; raw sockets get kernel filters that
/// pass only `idents` (the identifiers the engine will use). A family whose socket cannot be
/// had is not an error here: it is recorded in `refused` and becomes one only if a target
/// needs it (see [`plan`]). Also returns the `-v` lines about each family.
pub fn open(want: Families, cfg: &Config, idents: IdentRange) -> (Opened, Vec<String>) {
    let mut opened = Opened {
        sockets: Sockets {
            idents,
            ..Sockets::default()
        },
        refused: Refused::default(),
    };
    let mut notes = Vec::new();
    raise_net_raw();
    for (need, family) in [(want.v4, Family::V4), (want.v6, Family::V6)] {
        if !need {
            continue;
        }
        match open_family(family, cfg, idents, &mut notes) {
            Ok(s) => *opened.sockets.slot(family) = Some(s),
            Err(why) => {
                notes.push(format!(
                    "{}: no socket (an error only for a target that needs it): {why}",
                    family.name()
                ));
                opened.refused.set(family, why);
            }
        }
    }
    (opened, notes)
}

/// What the targets, once resolved, make of the sockets.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Resolved targets whose family cannot be served, by index.
    pub unserved: Vec<usize>,
    /// Families with at least one target that will be served: keep their sockets.
    pub keep: Families,
    /// Resolved targets exist but none can be served: the family whose diagnosis ends the
    /// run (exit 4).
    pub fatal: Option<Family>,
}

/// The pure decision: which resolved targets each family serves, given why a family cannot be
/// served (`refused`); which sockets to keep; whether the run can go on at all.
pub fn plan(targets: &[Target], refused: &Refused) -> Plan {
    let mut p = Plan::default();
    let mut lacking = Families::default();
    for (i, ip) in targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((i, t.ip()?)))
    {
        if refused.get(Family::of(ip)).is_some() {
            p.unserved.push(i);
            lacking.add(ip);
        } else {
            p.keep.add(ip);
        }
    }
    if p.keep == Families::default() {
        // The IPv4 diagnosis first, as when a run needs both.
        p.fatal = match (lacking.v4, lacking.v6) {
            (true, _) => Some(Family::V4),
            (false, true) => Some(Family::V6),
            (false, false) => None,
        };
    }
    p
}

/// After resolution (unprivileged): adds what only the targets reveal to `opened.refused` (an
/// open IPv6 socket is of no use where no interface has an IPv6 address, as with
/// net.ipv6.conf.all.disable_ipv6=1), makes the [`plan`], and closes every socket it does not
/// keep. Returns the plan and, for `-v`, the families whose socket it closed.
pub fn assess(opened: &mut Opened, targets: &[Target]) -> (Plan, Families) {
    let wants_v6 = targets.iter().any(|t| t.ip().is_some_and(|i| i.is_ipv6()));
    if wants_v6 && opened.sockets.v6.is_some() {
        if let Some(why) = ipv6_unusable() {
            opened.refused.v6 = Some(why);
        }
    }
    let p = plan(targets, &opened.refused);
    let s = &mut opened.sockets;
    let closed = Families {
        v4: !p.keep.v4 && s.v4.take().is_some(),
        v6: !p.keep.v6 && s.v6.take().is_some(),
    };
    (p, closed)
}

/// Why IPv6 cannot send from here, judged by the addresses the kernel lists: none at all means
/// no IPv6 packet has a source. None when some exist or the list cannot be read.
fn ipv6_unusable() -> Option<String> {
    let list = read_text("/proc/net/if_inet6")?;
    if has_inet6_address(&list) {
        return None;
    }
    let disabled =
        read_text("/proc/sys/net/ipv6/conf/all/disable_ipv6").is_some_and(|v| v.trim() == "1");
    Some(if disabled {
        "cannot ping over IPv6: IPv6 is disabled here (net.ipv6.conf.all.disable_ipv6 = 1), no interface has an IPv6 address".into()
    } else {
        "cannot ping over IPv6: no interface has an IPv6 address".into()
    })
}

/// A small text file of /proc, whole, as `fs::read_to_string` reads it (None if it cannot be
/// read or is not UTF-8), with one read loop in place of std's sized read-to-end.
fn read_text(path: &str) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut out = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match f.read(&mut chunk) {
            Ok(0) => return String::from_utf8(out).ok(),
            Ok(n) => out.extend_from_slice(chunk.get(..n)?),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// Whether a /proc/net/if_inet6 text lists an address (one per line: 32 hex digits, index,
/// prefix length, scope, flags, device).
fn has_inet6_address(list: &str) -> bool {
    list.split('\n').any(|l| {
        let a = l.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let hex = a.bytes().take_while(u8::is_ascii_hexdigit).count();
        hex == 32 && a.as_bytes().get(32).map_or(true, u8::is_ascii_whitespace)
    })
}

fn ping_group_range() -> Option<(u64, u64)> {
    let s = read_text("/proc/sys/net/ipv4/ping_group_range")?;
    // Two numbers with white space around them (tabs, as the kernel writes them).
    let (lo, hi) = s.trim().split_once(|c: char| c.is_ascii_whitespace())?;
    Some((lo.parse().ok()?, hi.trim().parse().ok()?))
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
    let path = match &exe {
        Some(p) => p.to_string_lossy(),
        None => "pingr".into(),
    };
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
    let fail = |call: &'static str, e: io::Error| Error::system(Call::Drop(call), e);
    let ids = sys::ids().map_err(|e| fail("getresuid", e))?;
    let was_setid = ids.ruid != ids.euid
        || ids.ruid != ids.suid
        || ids.rgid != ids.egid
        || ids.rgid != ids.sgid;
    if was_setid {
        sys::become_user(ids.ruid, ids.rgid).map_err(|e| fail("setresuid", e))?;
        let now = sys::ids().map_err(|e| fail("getresuid", e))?;
        if [now.euid, now.suid] != [ids.ruid; 2] || [now.egid, now.sgid] != [ids.rgid; 2] {
            return Err(Error::still_privileged(Held::Ids));
        }
    }
    sys::clear_ambient().map_err(|e| fail("PR_CAP_AMBIENT", e))?;
    sys::capset(sys::CapSets::default()).map_err(|e| fail("capset", e))?;
    sys::set_no_new_privs().map_err(|e| fail("PR_SET_NO_NEW_PRIVS", e))?;
    let after = sys::capget().map_err(|e| fail("capget", e))?;
    if after != sys::CapSets::default() || !sys::no_new_privs().unwrap_or(false) {
        return Err(Error::still_privileged(Held::Capabilities));
    }
    Ok(Dropped { after, was_setid })
}

/// The ambient set, from /proc/self/status (for -v only; None if it cannot be read).
fn ambient() -> Option<u64> {
    let status = read_text("/proc/self/status")?;
    let v = status.lines().find_map(|l| l.strip_prefix("CapAmb:"))?;
    Some(u64::from_str_radix(v.trim(), 16).unwrap_or(0))
}

/// The verbose line of the capability sets.
pub fn describe(c: &sys::CapSets) -> String {
    let (e, p, i) = (c.effective, c.permitted, c.inheritable);
    let mut line = format!("eff={e:#x} prm={p:#x} inh={i:#x} amb=");
    match ambient() {
        Some(a) => {
            let _ = write!(line, "{a:#x}");
        }
        None => line.push('?'),
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::cfg;
    use std::net::SocketAddr;

    fn fams(args: &[&str]) -> (bool, bool) {
        let f = families_to_open(&cfg(args));
        (f.v4, f.v6)
    }

    #[test]
    fn families_come_from_the_command_line_alone() {
        assert_eq!(fams(&["127.0.0.1"]), (true, false));
        assert_eq!(fams(&["::1"]), (false, true));
        assert_eq!(fams(&["127.0.0.1", "fe80::1%lo"]), (true, true));
        // A name, or a file not yet read, may need either family.
        assert_eq!(fams(&["localhost"]), (true, true));
        assert_eq!(fams(&["127.0.0.1", "example.invalid"]), (true, true));
        assert_eq!(fams(&["-f", "hosts"]), (true, true));
        assert_eq!(fams(&["-f", "-", "127.0.0.1"]), (true, true));
        // -4/-6 settle it, even for names and files.
        assert_eq!(fams(&["-4", "localhost"]), (true, false));
        assert_eq!(fams(&["-6", "-f", "hosts"]), (false, true));
        // A literal of the family -4/-6 rules out needs no socket at all (it fails to resolve).
        assert_eq!(fams(&["-4", "::1"]), (false, false));
        assert_eq!(fams(&["-g", "10.0.0.0/30"]), (true, false));
        assert_eq!(fams(&["-g", "fd00::/126", "10.1.1.1"]), (true, true));
    }

    fn t(name: &str, addr: Option<&str>) -> Target {
        Target {
            name: name.into(),
            addr: match addr {
                Some(a) => Ok(SocketAddr::new(a.parse().unwrap(), 0)),
                None => Err("Name or service not known".into()),
            },
        }
    }

    /// What `open` records on a kernel booted with ipv6.disable=1: socket(AF_INET6, ...)
    /// fails with EAFNOSUPPORT for both kinds.
    fn no_ipv6_kernel() -> Refused {
        let e = || io::Error::from_raw_os_error(libc::EAFNOSUPPORT);
        Refused {
            v4: None,
            v6: Some(explain("IPv6", &e(), &e())),
        }
    }

    #[test]
    fn a_family_without_socket_fails_only_the_targets_that_need_it() {
        let refused = no_ipv6_kernel();
        let why = refused.v6.clone().unwrap();
        assert_eq!(
            why,
            "cannot open an IPv6 ICMP socket: IPv6 is disabled or not supported on this system"
        );
        let targets = [
            t("127.0.0.1", Some("127.0.0.1")),
            t("::1", Some("::1")),
            t("bad.invalid", None),
            t("10.0.0.1", Some("10.0.0.1")),
            t("fd00::1", Some("fd00::1")),
        ];
        let p = plan(&targets, &refused);
        assert_eq!(p.unserved, [1, 4]);
        assert_eq!(
            p.keep,
            Families {
                v4: true,
                v6: false
            }
        );
        assert_eq!(p.fatal, None, "IPv4 targets still run");

        // Only IPv6 targets: nothing can be served, the run ends with the IPv6 diagnosis.
        let p = plan(&targets[1..3], &refused);
        assert_eq!(p.unserved, [0]);
        assert_eq!(p.keep, Families::default());
        assert_eq!(p.fatal, Some(Family::V6));

        // Only names that did not resolve: no socket was needed, so no exit 4 (exit 2).
        let p = plan(&targets[2..3], &refused);
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn sockets_no_target_uses_are_not_kept() {
        let none = Refused::default();
        let p = plan(&[t("127.0.0.1", Some("127.0.0.1"))], &none);
        assert_eq!(
            p.keep,
            Families {
                v4: true,
                v6: false
            }
        );
        let p = plan(&[t("::1", Some("::1"))], &none);
        assert_eq!(
            p.keep,
            Families {
                v4: false,
                v6: true
            }
        );
        assert_eq!(plan(&[], &none), Plan::default());
    }

    #[test]
    fn both_families_refused_reports_ipv4_first() {
        let refused = Refused {
            v4: Some("v4 why".into()),
            v6: Some("v6 why".into()),
        };
        let targets = [t("::1", Some("::1")), t("127.0.0.1", Some("127.0.0.1"))];
        let p = plan(&targets, &refused);
        assert_eq!(p.unserved, [0, 1]);
        assert_eq!(p.fatal, Some(Family::V4));
        assert_eq!(refused.get(Family::V4).map(String::as_str), Some("v4 why"));
    }

    #[test]
    fn inet6_address_list() {
        let lo = "00000000000000000000000000000001 01 80 10 80       lo\n";
        assert!(has_inet6_address(lo));
        assert!(!has_inet6_address(""));
        assert!(!has_inet6_address("garbage line\n"));
        assert!(has_inet6_address(
            "x\n  fe800000000000000000000000000001\t02 40 20 80 eth0\n"
        ));
        assert!(!has_inet6_address(
            "00000000000000000000000000000001a 01 80 10 80 lo\n"
        ));
        assert!(!has_inet6_address(
            "0000000000000000000000000000001 01 80 10 80 lo\n"
        ));
    }
}
