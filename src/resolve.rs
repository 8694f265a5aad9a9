//! Turns what the user named into targets, in input order.
//!
//! Command-line targets come first, then each `-f` file (or standard input), then each `-g` prefix.
//! Literal addresses never touch the resolver; names go through the system resolver (getaddrinfo,
//! called as std calls it: `sys::lookup_host`) with `-4`/`-6` applied. A name that fails is a per-target error (exit 2), never a reason to stop the
//! others; a file that cannot be read, or a run larger than `MAX_TARGETS`, is a command-line error
//! (exit 3). Nothing here sends a packet except what the system resolver itself does for names.
//! Everything here runs after the privilege drop (main's run order): a target file, standard input
//! and every DNS answer are read by a process that holds no capability.

use crate::cli::{Cidr, Config};
use crate::error::{Error, Usage};
use crate::packet::Family;
use std::io::{self, ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The most targets one run takes (a /14 of IPv4, four /16 sweeps).
pub const MAX_TARGETS: usize = 262_144;
/// The longest line a target file may hold.
pub const MAX_LINE: usize = 1024;

/// One target as named, and where it resolved to (or why it did not).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub addr: Result<SocketAddr, String>,
}

impl Target {
    pub fn ip(&self) -> Option<IpAddr> {
        self.addr.as_ref().ok().map(|a| a.ip())
    }
}

/// Collects the names from arguments, files and prefixes, then resolves each.
pub fn targets(cfg: &Config) -> Result<Vec<Target>, Error> {
    let mut names: Vec<String> = cfg.targets.clone();
    // fping reads only the first word of each line of a target file.
    let first_word = cfg.fping.is_some();
    for f in &cfg.files {
        read_file(f, &mut names, first_word)?;
        check_count(names.len())?;
    }
    let mut out: Vec<Target> = names
        .into_iter()
        .map(|name| Target {
            addr: resolve_addr(&name, cfg.family),
            name,
        })
        .collect();
    for c in &cfg.cidrs {
        expand(c, cfg.family, &mut out)?;
    }
    // fping with no target at all (an empty list on standard input) just exits 1.
    if out.is_empty() && cfg.fping.is_none() {
        return Err(Usage::whole("no target given (the files named hold none)").into());
    }
    Ok(out)
}

fn check_count(n: usize) -> Result<(), Error> {
    if n > MAX_TARGETS {
        let rule = format!("too many targets: {n} (at most {MAX_TARGETS} per run)");
        return Err(Usage::whole(rule).into());
    }
    Ok(())
}

/// Reads one name per line: `#` starts a comment, blank lines are skipped, CRLF and a UTF-8
/// byte-order mark are tolerated, surrounding white space is trimmed. Read in 8 KiB chunks
/// (standard input through `sys::read_stdin`, as std's `Stdin` reads it); a line longer than
/// `MAX_LINE` bytes ends the read there, so a file without newlines (/dev/zero) cannot grow
/// memory.
fn read_file(path: &str, names: &mut Vec<String>, first_word: bool) -> Result<(), Error> {
    match read_names(path, names, first_word) {
        Ok(()) => Ok(()),
        Err(Some(why)) => Err(Usage::rule(format!("-f {path}"), why).into()),
        Err(None) => check_count(names.len()),
    }
}

/// [`read_file`]'s reading, with a small error: what is wrong with the file, or None for too
/// many targets.
fn read_names(path: &str, names: &mut Vec<String>, first_word: bool) -> Result<(), Option<String>> {
    let err = |e: io::Error| Some(crate::error::short(&e));
    let mut file = None;
    if path != "-" {
        let f = std::fs::File::open(path).map_err(err)?;
        if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(Some("is a directory".into()));
        }
        file = Some(f);
    }
    let mut chunk = vec![0u8; 8192];
    let mut line = Vec::with_capacity(128);
    let mut lineno = 1usize;
    loop {
        let read = match &mut file {
            Some(f) => f.read(&mut chunk),
            None => crate::sys::read_stdin(&mut chunk),
        };
        let n = match read {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(err(e)),
        };
        if n == 0 {
            // The last line may have no newline.
            return match line.is_empty() {
                true => Ok(()),
                false => add_name(&line, lineno, first_word, names),
            };
        }
        for &b in chunk.get(..n).unwrap_or_default() {
            if b == b'\n' {
                add_name(&line, lineno, first_word, names)?;
                line.clear();
                lineno += 1;
            } else if line.len() == MAX_LINE {
                return Err(Some(format!(
                    "line {lineno} is longer than {MAX_LINE} bytes"
                )));
            } else {
                line.push(b);
            }
        }
    }
}

/// The name on one line of a target file (without its newline), if any, added to `names`.
fn add_name(
    line: &[u8],
    lineno: usize,
    first_word: bool,
    names: &mut Vec<String>,
) -> Result<(), Option<String>> {
    let mut text = line;
    if lineno == 1 {
        text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    }
    if let Some(pos) = text.iter().position(|&b| b == b'#') {
        text = text.get(..pos).unwrap_or_default();
    }
    let mut name = String::from_utf8_lossy(text).trim().to_string();
    if first_word {
        // Trimmed already: the first word ends at the first white space, if any.
        if let Some(end) = name.find(char::is_whitespace) {
            name.truncate(end);
        }
    }
    if !name.is_empty() {
        names.push(name);
        if names.len() > MAX_TARGETS {
            return Err(None);
        }
    }
    Ok(())
}

fn family_ok(ip: &IpAddr, family: Option<Family>) -> bool {
    family.map_or(true, |f| Family::of(*ip) == f)
}

/// Resolves one name (for the tests; `targets` resolves each name it owns in place).
#[cfg(test)]
fn resolve(name: &str, family: Option<Family>) -> Target {
    Target {
        name: name.to_string(),
        addr: resolve_addr(name, family),
    }
}

/// Resolves one name. Literal IPv4/IPv6 (with `%scope`) first, then the system resolver.
fn resolve_addr(name: &str, family: Option<Family>) -> Result<SocketAddr, String> {
    if name.is_empty() || name.contains('\0') || name.contains('\u{FFFD}') || name.len() > 253 + 64
    {
        return Err("invalid target name".into());
    }
    let scope = name.split_once('%').map(|(_, s)| s);
    if let Some(ip) = literal(name) {
        if !family_ok(&ip, family) {
            return Err("address family not allowed by -4/-6".into());
        }
        return match ip {
            IpAddr::V4(v4) => {
                if scope.is_some() {
                    return Err("a scope (%...) belongs to IPv6 link-local addresses only".into());
                }
                Ok(SocketAddr::V4(SocketAddrV4::new(v4, 0)))
            }
            IpAddr::V6(v6) => {
                let scope_id = match scope {
                    // Parsed as u64 (std's one parser here), then range-checked: as u32.
                    Some(s) => s
                        .parse::<u64>()
                        .ok()
                        .and_then(|v| u32::try_from(v).ok())
                        .or_else(|| crate::sys::if_index(s))
                        .ok_or_else(|| format!("unknown interface '{s}' in scope"))?,
                    None => 0,
                };
                if is_link_local(&v6) && scope_id == 0 {
                    return Err(format!(
                        "a link-local address needs a scope, e.g. {v6}%eth0"
                    ));
                }
                Ok(SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope_id)))
            }
        };
    }
    let addrs = crate::sys::lookup_host(name).map_err(lookup_message)?;
    addrs
        .into_iter()
        .find(|a| family_ok(&a.ip(), family))
        .ok_or_else(|| "no address of the requested family".to_string())
}

/// fping's `-m`: a name becomes one target per address it resolves to (of the family asked
/// for, in the resolver's order, each address once); literals and failures stay as they are.
pub fn every_address(targets: Vec<Target>, family: Option<Family>) -> Vec<Target> {
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        if literal(&t.name).is_some() || t.addr.is_err() {
            out.push(t);
            continue;
        }
        // This name's targets so far are out[start..]: each address once.
        let start = out.len();
        for a in crate::sys::lookup_host(&t.name).unwrap_or_default() {
            let seen = out
                .get(start..)
                .unwrap_or_default()
                .iter()
                .any(|o| o.ip() == Some(a.ip()));
            if family_ok(&a.ip(), family) && !seen {
                out.push(Target {
                    name: t.name.clone(),
                    addr: Ok(a),
                });
            }
        }
        if out.len() == start {
            out.push(t);
        }
    }
    out
}

/// The address a target names literally (`192.0.2.1`, `fd00::1`, `fe80::1%eth0`), without
/// asking the resolver; None for a name.
pub fn literal(name: &str) -> Option<IpAddr> {
    let host = name.split_once('%').map_or(name, |(h, _)| h);
    host.parse().ok()
}

fn is_link_local(v6: &Ipv6Addr) -> bool {
    (v6.segments()[0] & 0xffc0) == 0xfe80
}

/// std wraps getaddrinfo's text as "failed to lookup address information: TEXT"
/// (`sys::lookup_host` makes the same text); an `EAI_SYSTEM` failure is the errno's error,
/// whose "(os error N)" tail goes too.
fn lookup_message(s: String) -> String {
    let mut s = s;
    if let Some(i) = s.find(" (os error") {
        s.truncate(i);
    }
    // What follows the last ": ", if anything does.
    match s.as_bytes().windows(2).rposition(|w| w == b": ") {
        Some(i) if i + 2 < s.len() => s.get(i + 2..).unwrap_or_default().to_string(),
        _ => s,
    }
}

/// Expands a prefix into host addresses: IPv4 prefixes shorter than /31 leave out the network
/// and broadcast addresses; IPv6 prefixes (/112../128) take every address.
fn expand(c: &Cidr, family: Option<Family>, out: &mut Vec<Target>) -> Result<(), Error> {
    if !family_ok(&c.addr, family) {
        let option = format!("-g {}/{}", c.addr, c.prefix);
        return Err(Usage::rule(option, "address family not allowed by -4/-6").into());
    }
    let (base, bits): (u128, u32) = match c.addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    let host_bits = bits - u32::from(c.prefix).min(bits);
    let size: u128 = 1u128 << host_bits;
    let net = base & !(size - 1);
    let (first, last) = if bits == 32 && host_bits >= 2 {
        (net + 1, net + size - 2)
    } else {
        (net, net + size - 1)
    };
    // Saturates rather than truncates where usize is 32 bits (or for any prefix too wide).
    let count = usize::try_from(last - first + 1).unwrap_or(usize::MAX);
    if out.len().saturating_add(count) > MAX_TARGETS {
        let option = format!("-g {}/{}", c.addr, c.prefix);
        let rule = format!("{count} addresses would make more than {MAX_TARGETS} targets");
        return Err(Usage::rule(option, rule).into());
    }
    out.reserve(count);
    for v in first..=last {
        let sa = if bits == 32 {
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(v as u32), 0))
        } else {
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(v), 0, 0, 0))
        };
        out.push(Target {
            name: sa.ip().to_string(),
            addr: Ok(sa),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_failures_read_as_one_short_text() {
        let gai = "failed to lookup address information: Name or service not known";
        assert_eq!(lookup_message(gai.into()), "Name or service not known");
        let sys = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(lookup_message(sys.to_string()), "Connection refused");
        assert_eq!(lookup_message("a: b: c".into()), "c");
        assert_eq!(lookup_message("a: ".into()), "a: ");
        assert_eq!(lookup_message("plain".into()), "plain");
        let nul = crate::sys::lookup_host("a\0b").unwrap_err();
        assert_eq!(
            lookup_message(nul),
            "file name contained an unexpected NUL byte"
        );
    }

    fn cidr(s: &str, p: u8) -> Cidr {
        Cidr {
            addr: s.parse().unwrap(),
            prefix: p,
        }
    }

    #[test]
    fn literals_and_scopes() {
        assert_eq!(
            resolve("127.0.0.1", None).addr.unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert!(resolve("::1", None).addr.unwrap().is_ipv6());
        assert!(resolve("::1", Some(Family::V4)).addr.is_err());
        assert!(resolve("127.0.0.1", Some(Family::V6)).addr.is_err());
        assert!(resolve("fe80::1", None).addr.unwrap_err().contains("scope"));
        let lo = resolve("fe80::1%lo", None).addr.unwrap();
        match lo {
            SocketAddr::V6(a) => assert_ne!(a.scope_id(), 0),
            _ => panic!(),
        }
        assert!(resolve("fe80::1%7", None).addr.is_ok());
        assert!(resolve("127.0.0.1%lo", None).addr.is_err());
        assert!(resolve("a\0b", None).addr.is_err());
        assert!(resolve("", None).addr.is_err());
        assert!(resolve(&"a".repeat(300), None).addr.is_err());
    }

    #[test]
    fn literals_are_told_from_names() {
        assert_eq!(literal("127.0.0.1"), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(literal("fe80::1%eth0").is_some_and(|i| i.is_ipv6()));
        assert_eq!(literal("127.1"), None); // getaddrinfo's business: a name here
        assert_eq!(literal("localhost"), None);
        assert_eq!(literal(""), None);
    }

    #[test]
    fn prefixes_expand_without_network_and_broadcast() {
        let mut v = Vec::new();
        expand(&cidr("10.0.0.7", 30), None, &mut v).unwrap();
        let names: Vec<_> = v.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["10.0.0.5", "10.0.0.6"]);
        v.clear();
        expand(&cidr("10.0.0.0", 31), None, &mut v).unwrap();
        assert_eq!(v.len(), 2);
        v.clear();
        expand(&cidr("10.0.0.9", 32), None, &mut v).unwrap();
        assert_eq!(v[0].name, "10.0.0.9");
        v.clear();
        expand(&cidr("fd00::", 120), None, &mut v).unwrap();
        assert_eq!(v.len(), 256);
        assert_eq!(v[255].name, "fd00::ff");
        v.clear();
        expand(&cidr("127.0.0.0", 16), None, &mut v).unwrap();
        assert_eq!(v.len(), 65_534);
        assert!(expand(&cidr("10.0.0.0", 8), None, &mut Vec::new()).is_err());
        assert!(expand(&cidr("10.0.0.0", 24), Some(Family::V6), &mut Vec::new()).is_err());
    }

    #[test]
    fn files_skip_comments_blank_crlf_and_bom() {
        let dir = std::env::temp_dir().join(format!("pingr-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("hosts");
        std::fs::write(
            &p,
            b"\xEF\xBB\xBF127.0.0.1\r\n# comment\n\n  ::1  # trailing\r\nlocalhost",
        )
        .unwrap();
        let mut names = Vec::new();
        read_file(p.to_str().unwrap(), &mut names, false).unwrap();
        assert_eq!(names, ["127.0.0.1", "::1", "localhost"]);
        std::fs::write(&p, vec![b'a'; 10_000]).unwrap();
        assert!(read_file(p.to_str().unwrap(), &mut Vec::new(), false)
            .unwrap_err()
            .to_string()
            .contains("longer"));
        assert!(read_file(dir.to_str().unwrap(), &mut Vec::new(), false)
            .unwrap_err()
            .to_string()
            .contains("directory"));
        assert!(read_file("/nonexistent/pingr", &mut Vec::new(), false).is_err());
        assert!(read_file("/dev/zero", &mut Vec::new(), false).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
