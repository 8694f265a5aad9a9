//! The steps of a run between the command line and the report: open and drop, serve, probe.
//!
//! They join the parts, out of `main` so that it reads as the run order: [`sockets_then_drop`] (the
//! only privileged step: the identifiers, the sockets, the drop), [`serve`] (after resolution:
//! which socket serves which target) and [`probe`] (the engine over the targets served). Policy
//! stays in `privilege.rs`, the engine in `engine/`, the texts in `report/`; nothing here reads a
//! file, a name or a packet.

use crate::bpf::IdentRange;
use crate::cli::Config;
use crate::engine;
use crate::error::{Call, Error};
use crate::monitor;
use crate::packet::Family;
use crate::privilege::{self, Opened, Plan, Sockets};
use crate::report::printable;
use crate::report::run::{resolved_note, verbose};
use crate::resolve::Target;
use crate::sys;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The real user id (for the flood rule); an id that is not root if it cannot be read.
pub fn real_uid() -> u32 {
    sys::ids().map(|i| i.ruid).unwrap_or(u32::MAX)
}

/// Opens and configures the sockets (the privileged step), then drops every privilege; with
/// `-v`, says what it got and what is left.
pub fn sockets_then_drop(cfg: &Config) -> Result<Opened, Error> {
    let at_start = privilege::describe(&privilege::caps());
    // One identifier per engine thread, chosen before the sockets open: their kernel filters
    // pass exactly this range (one comparison, no 16-bit wrap), and are locked before the drop.
    let idents = IdentRange::choose(random_seed(), ident_count(cfg));
    let (opened, notes) = privilege::open(privilege::families_to_open(cfg), cfg, idents);
    verbose(cfg, &notes);
    let dropped = privilege::drop_all()?;
    if dropped.was_setid {
        eprintln!(
            "pingr: warning: running setuid/setgid; returned to the real user and group after opening sockets (file capabilities are the supported install: make install)"
        );
    }
    if cfg.verbose {
        let after = privilege::describe(&dropped.after);
        eprintln!(
            "pingr: capabilities at start: {at_start}; after the drop: {after}, no_new_privs=1"
        );
    }
    Ok(opened)
}

/// How many raw-socket identifiers a run needs: one per engine thread, at most
/// `--max-threads`, and no more than the targets the command line can name when no `-f` file
/// can add any (the sockets open before files are read or names resolved).
fn ident_count(cfg: &Config) -> usize {
    // fping's -m: one name can become several targets.
    let all_addrs = cfg.fping.as_ref().is_some_and(|f| f.all_addrs);
    if !cfg.files.is_empty() || all_addrs {
        return cfg.max_threads;
    }
    let cidrs = cfg.cidrs.iter().map(|c| {
        let bits = if c.addr.is_ipv4() { 32 } else { 128 };
        let host_bits = bits - u32::from(c.prefix).min(bits);
        1usize.checked_shl(host_bits).unwrap_or(usize::MAX)
    });
    let named = cidrs.fold(cfg.targets.len(), usize::saturating_add);
    cfg.max_threads.min(named)
}

/// A different seed every run (std's per-process random hash keys), for the identifiers.
fn random_seed() -> u64 {
    random_u64(u64::from(std::process::id()))
}

/// A hash of `x` under new random keys (std's per-process random hash keys, one more each call).
fn random_u64(x: u64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(x);
    h.finish()
}

/// Sixteen bytes that differ from run to run, for fping's `-R` (std's per-process hash keys).
pub fn random_pattern() -> Vec<u8> {
    let pid = u64::from(sys::pid());
    let mut out = random_u64(pid).to_be_bytes().to_vec();
    out.extend_from_slice(&random_u64(1 ^ pid).to_be_bytes());
    out
}

/// Matches the resolved targets to the sockets ([`privilege::plan`]): exit 4 with the
/// family's one-line diagnosis when none can be served, else one line per unserved target.
/// Returns the plan and the sockets it keeps.
pub fn serve(
    cfg: &Config,
    mut opened: Opened,
    targets: &[Target],
) -> Result<(Plan, Sockets), Error> {
    let (plan, closed) = privilege::assess(&mut opened, targets);
    if cfg.verbose {
        eprintln!("pingr: {}", resolved_note(targets, plan.unserved.len()));
        for (shut, family) in [(closed.v4, Family::V4), (closed.v6, Family::V6)] {
            if shut {
                eprintln!(
                    "pingr: {}: socket closed (it serves no target)",
                    family.name()
                );
            }
        }
    }
    if let Some(why) = plan.fatal.and_then(|p| opened.refused.get(p)) {
        return Err(Error::no_socket(why.clone()));
    }
    for t in plan.unserved.iter().filter_map(|&i| targets.get(i)) {
        if let Some(why) = t.ip().and_then(|ip| opened.refused.get(Family::of(ip))) {
            eprintln!("pingr: {}: {why}", printable(&t.name));
        }
    }
    Ok((plan, opened.sockets))
}

/// Runs the engine over the targets the plan serves; None when it serves none (every name
/// failed to resolve: nothing to send to).
pub fn probe(
    cfg: &Arc<Config>,
    targets: &Arc<Vec<Target>>,
    plan: &Plan,
    sockets: Sockets,
    reporter: Option<Arc<monitor::Reporter>>,
) -> Result<Option<engine::RunResult>, Error> {
    if !(plan.keep.v4 || plan.keep.v6) {
        return Ok(None);
    }
    let drops = [&sockets.v4, &sockets.v6].map(|s| s.as_ref().map(|s| Arc::clone(&s.drops)));
    let mut r = engine::run_with(
        Arc::clone(cfg),
        engine_targets(targets, plan),
        sockets,
        reporter.map(|r| r as Arc<dyn engine::Reporter>),
    )
    .map_err(|e| Error::system(Call::Start, e))?;
    if cfg.verbose {
        for (n, fam) in drops.iter().zip([Family::V4, Family::V6]) {
            let Some(n) = n else { continue };
            let (fam, n) = (fam.name(), n.load(Ordering::Relaxed));
            eprintln!("pingr: {fam}: kernel receive drops on the socket (SO_RXQ_OVFL): {n}");
        }
    }
    match r.write_error.take() {
        Some(e) => Err(Error::system(Call::WriteStdout, e)),
        None => Ok(Some(r)),
    }
}

/// The targets as the engine sees them: one it cannot serve is left out like a name that did
/// not resolve (the report still lists it, with its address and nothing sent).
fn engine_targets(targets: &Arc<Vec<Target>>, plan: &Plan) -> Arc<Vec<Target>> {
    if plan.unserved.is_empty() {
        return Arc::clone(targets);
    }
    let mut v = targets.as_ref().clone();
    for &i in &plan.unserved {
        if let Some(t) = v.get_mut(i) {
            t.addr = Err("no usable socket".into());
        }
    }
    Arc::new(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::cfg;

    #[test]
    fn identifiers_cover_every_thread_the_engine_can_start() {
        assert_eq!(ident_count(&cfg(&["h"])), 1);
        // The default cap (2 threads).
        assert_eq!(ident_count(&cfg(&["a", "b", "c"])), 2);
        assert_eq!(ident_count(&cfg(&["-f", "/dev/null"])), 2);
        let cap = |args: &[&str]| {
            let mut a = vec!["--max-threads", "256"];
            a.extend_from_slice(args);
            ident_count(&cfg(&a))
        };
        assert_eq!(cap(&["a", "b", "c"]), 3);
        assert_eq!(cap(&["-g", "10.0.0.0/30"]), 4);
        assert_eq!(cap(&["-g", "10.0.0.0/24", "h"]), 256);
        assert_eq!(cap(&["-g", "10.0.0.0/16"]), 256);
        assert_eq!(cap(&["-g", "fd00::/112"]), 256);
        assert_eq!(
            ident_count(&cfg(&["--max-threads", "8", "-g", "10.0.0.0/24"])),
            8
        );
        // A file can name any number of targets: the thread cap is the only bound.
        assert_eq!(cap(&["-f", "/dev/null"]), 256);
        assert_eq!(
            ident_count(&cfg(&["--max-threads", "4096", "-f", "x", "h"])),
            4096
        );
    }

    #[test]
    fn targets_no_socket_serves_are_left_out_like_unresolved_names() {
        let t = |name: &str| Target {
            name: name.into(),
            addr: Ok(std::net::SocketAddr::new(name.parse().unwrap(), 0)),
        };
        let targets = Arc::new(vec![t("127.0.0.1"), t("::1"), t("10.0.0.1")]);
        let all = engine_targets(&targets, &Plan::default());
        assert!(
            Arc::ptr_eq(&all, &targets),
            "nothing unserved: the same list"
        );
        let plan = Plan {
            unserved: vec![1],
            ..Plan::default()
        };
        let some = engine_targets(&targets, &plan);
        let addrs: Vec<bool> = some.iter().map(|t| t.addr.is_ok()).collect();
        assert_eq!(addrs, [true, false, true]);
        assert_eq!(some[1].addr, Err("no usable socket".to_string()));
        assert_eq!(some[1].name, "::1");
    }

    #[test]
    fn random_patterns_are_sixteen_bytes() {
        assert_eq!(random_pattern().len(), 16);
    }
}
