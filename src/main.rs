//! pingr: ICMP echo for many hosts at once, with the least privilege that works.
//! `main` is thin: parse the command line, open sockets, drop privileges, read target files
//! and resolve, run, report, and map the outcome to the exit status (the only place that
//! does). Nothing from the network or from a target file is read with privilege.

mod asyncerr;
mod bpf;
mod checksum;
mod cli;
mod decimal;
mod engine;
mod error;
mod monitor;
mod packet;
mod privilege;
mod report;
mod resolve;
mod rtt;
mod socket;
mod stats;
#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod testrng;

use cli::{Command, Config, Format, Personality, Show};
use error::Error;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_default();
    let args: Vec<String> = argv.collect();
    // The personality switch: one binary, the grammar and output family by program name.
    let code = match cli::personality(&argv0) {
        Personality::Pingr => pingr_main(&args),
        Personality::Fping { family } => fping_main(&argv0, family, &args),
    };
    ExitCode::from(code)
}

fn pingr_main(args: &[String]) -> u8 {
    match cli::parse(args) {
        Err(e) => {
            eprintln!("pingr: {e}");
            error::EXIT_USAGE
        }
        Ok(Command::Help) => print_quietly(&format!("{}\n", cli::usage())),
        Ok(Command::Version) => print_quietly(&format!("{}\n", cli::version())),
        Ok(Command::Run(cfg)) => match run(cfg) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("pingr: {e}");
                e.exit_status()
            }
        },
    }
}

fn print_quietly(s: &str) -> u8 {
    let _ = io::stdout().lock().write_all(s.as_bytes());
    error::EXIT_ALL_ANSWERED
}

/// Like iputils ping (2 ms) and fping (1 ms), a user who is not root cannot flood: the
/// capability that lets pingr open a raw socket is not a licence to saturate a network.
pub const USER_MIN_INTERVAL: Duration = Duration::from_millis(2);
pub const USER_MIN_GAP: Duration = Duration::from_millis(1);

fn check_flood(cfg: &Config, real_uid: u32) -> Result<(), Error> {
    if real_uid == 0 {
        return Ok(());
    }
    if cfg.interval < USER_MIN_INTERVAL && cfg.count != Some(1) {
        return Err(Error::Usage(
            "-i: below 0.002 seconds is for root only (users cannot flood)".into(),
        ));
    }
    if cfg.gap < USER_MIN_GAP {
        return Err(Error::Usage(
            "--gap: below 1 ms is for root only (users cannot flood)".into(),
        ));
    }
    Ok(())
}

/// The run order, for pingr's own grammar. Only the first two steps run with privilege:
/// nothing from a file, standard input or the network (DNS answers included) is read
/// before the drop. Another personality (fping) keeps the same steps, in the same order,
/// with its own check, messages and report around them: `sockets_then_drop`, then
/// `resolve::targets` (and anything else that resolves), then `serve`, then `probe`.
fn run(cfg: Config) -> Result<u8, Error> {
    // 1. The command line, parsed: users cannot flood.
    check_flood(&cfg, sys::ids().map(|i| i.ruid).unwrap_or(u32::MAX))?;
    // 2-3. The sockets each family may need, then the drop of every privilege.
    let mut opened = sockets_then_drop(&cfg)?;
    // 4. Target files, standard input and names, with nothing held.
    let targets = resolve::targets(&cfg)?;
    for t in &targets {
        if let Err(e) = &t.addr {
            eprintln!("pingr: {}: {e}", report::printable(&t.name));
        }
    }
    // 5. Which socket serves which target; the others get one line each.
    let plan = serve(&cfg, &mut opened, &targets)?;
    // 6. The run and its report. Interim reports, --output and the monitoring formats go
    // through a reporter, which the engine calls on its clock and once at the end.
    let targets = Arc::new(targets);
    let reporter = monitor::wanted(&cfg)
        .then(|| Arc::new(monitor::Reporter::new(&cfg, &targets, engine::real_ns())));
    let ran = probe(&cfg, &targets, &plan, opened.sockets, reporter.clone())?;
    let engine_ran = ran.is_some();
    let summaries = match ran {
        Some(r) if r.broken_pipe => return Ok(status(&cfg, &targets, &r.summaries)),
        Some(r) => r.summaries,
        None => vec![None; targets.len()],
    };
    let mut out = io::BufWriter::with_capacity(64 << 10, io::stdout().lock());
    let written = match reporter.as_deref() {
        None => render(&cfg, &targets, &summaries, &mut out),
        // Nothing was probed: the last report (all zeros) was not made by the engine.
        Some(rep) if rep.last_report_is_final() && !engine_ran => {
            let text = engine::Reporter::report(rep, &[], true).unwrap_or_default();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
        Some(rep) if rep.last_report_is_final() => Ok(()),
        Some(rep) => {
            let mut bytes = Vec::new();
            render(&cfg, &targets, &summaries, &mut bytes).and_then(|()| {
                let mut res = Ok(());
                rep.deliver(bytes, |b| res = out.write_all(&b).and_then(|_| out.flush()));
                res
            })
        }
    };
    if reporter.as_ref().is_some_and(|r| r.failed()) {
        return Ok(error::EXIT_SYSTEM);
    }
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(write_error(&e)),
        _ => {}
    }
    Ok(status(&cfg, &targets, &summaries))
}

/// Runs the engine over the targets the plan serves; None when it serves none (every name
/// failed to resolve: nothing to send to).
fn probe(
    cfg: &Config,
    targets: &Arc<Vec<resolve::Target>>,
    plan: &privilege::Plan,
    sockets: privilege::Sockets,
    reporter: Option<Arc<monitor::Reporter>>,
) -> Result<Option<engine::RunResult>, Error> {
    if !(plan.keep.v4 || plan.keep.v6) {
        return Ok(None);
    }
    let drop_counters = sockets.drop_counters();
    let r = engine::run_with(
        cfg.clone(),
        engine_targets(targets, plan),
        sockets,
        reporter.map(|r| r as Arc<dyn engine::Reporter>),
    )
    .map_err(|e| Error::System(format!("cannot start: {}", privilege::short(&e))))?;
    let drops = drop_counters.iter().map(|(fam, n)| {
        let n = n.load(std::sync::atomic::Ordering::Relaxed);
        format!("{fam}: kernel receive drops on the socket (SO_RXQ_OVFL): {n}")
    });
    verbose(cfg, &drops.collect::<Vec<_>>());
    match &r.write_error {
        Some(e) => Err(write_error(e)),
        None => Ok(Some(r)),
    }
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
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

fn write_error(e: &io::Error) -> Error {
    Error::System(format!("write error: {}", privilege::short(e)))
}

/// Opens and configures the sockets (the privileged step), then drops every privilege; with
/// `-v`, says what it got and what is left.
fn sockets_then_drop(cfg: &Config) -> Result<privilege::Opened, Error> {
    let at_start = privilege::describe(&privilege::caps());
    // One identifier per engine thread, chosen before the sockets open: their kernel filters
    // pass exactly this range (one comparison, no 16-bit wrap), and are locked before the drop.
    let idents = bpf::IdentRange::choose(random_seed(), ident_count(cfg));
    let opened = privilege::open(privilege::families_to_open(cfg), cfg, idents);
    verbose(cfg, &opened.notes);
    let dropped = privilege::drop_all()?;
    if dropped.was_setid {
        eprintln!(
            "pingr: warning: running setuid/setgid; returned to the real user and group after opening sockets (file capabilities are the supported install: make install)"
        );
    }
    verbose(
        cfg,
        &[format!(
            "capabilities at start: {}; after the drop: {}, no_new_privs=1",
            at_start,
            privilege::describe(&dropped.after)
        )],
    );
    Ok(opened)
}

/// Matches the resolved targets to the sockets ([`privilege::plan`]): exit 4 with the
/// family's one-line diagnosis when none can be served, else one line per unserved target.
fn serve(
    cfg: &Config,
    opened: &mut privilege::Opened,
    targets: &[resolve::Target],
) -> Result<privilege::Plan, Error> {
    let (plan, closed) = privilege::assess(opened, targets);
    verbose(cfg, &[resolved_note(targets, &plan)]);
    verbose(cfg, &closed);
    if let Some(why) = plan.fatal.and_then(|p| opened.refused.get(p)) {
        return Err(Error::System(why.clone()));
    }
    for t in plan.unserved.iter().filter_map(|&i| targets.get(i)) {
        if let Some(why) = t
            .ip()
            .and_then(|ip| opened.refused.get(packet::Family::of(ip)))
        {
            eprintln!("pingr: {}: {why}", report::printable(&t.name));
        }
    }
    Ok(plan)
}

fn verbose(cfg: &Config, lines: &[String]) {
    if cfg.verbose {
        for l in lines {
            eprintln!("pingr: {l}");
        }
    }
}

/// The `-v` line that follows the drop: what the targets resolved to.
fn resolved_note(targets: &[resolve::Target], plan: &privilege::Plan) -> String {
    let v4 = targets
        .iter()
        .filter(|t| t.ip().is_some_and(|i| i.is_ipv4()))
        .count();
    let v6 = targets
        .iter()
        .filter(|t| t.ip().is_some_and(|i| i.is_ipv6()))
        .count();
    let failed = targets.len() - v4 - v6;
    format!(
        "resolved {} targets after the drop: {v4} IPv4, {v6} IPv6, {failed} not resolved, {} without a usable socket",
        targets.len(),
        plan.unserved.len()
    )
}

/// The targets as the engine sees them: one it cannot serve is left out like a name that did
/// not resolve (the report still lists it, with its address and nothing sent).
fn engine_targets(
    targets: &Arc<Vec<resolve::Target>>,
    plan: &privilege::Plan,
) -> Arc<Vec<resolve::Target>> {
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

/// A target "answered" when it replied at least once and its loss is within --max-loss.
fn answered(cfg: &Config, s: Option<&stats::Summary>) -> bool {
    s.is_some_and(|s| s.received > 0 && cfg.max_loss.map_or(true, |m| s.loss_percent() <= m))
}

fn status(cfg: &Config, targets: &[resolve::Target], sums: &[Option<stats::Summary>]) -> u8 {
    let unresolved = targets.iter().any(|t| t.addr.is_err());
    let alive = targets
        .iter()
        .zip(sums)
        .filter(|(t, s)| t.addr.is_ok() && answered(cfg, s.as_ref()))
        .count();
    let resolved = targets.iter().filter(|t| t.addr.is_ok()).count();
    let silent = match cfg.min_alive {
        Some(n) => (alive as u64) < n,
        None => alive < resolved,
    };
    error::run_status(unresolved, silent)
}

/// Writes the report: names only (-a/-u), the TSV table, JSON summaries, or the per-host
/// statistics blocks and (several targets) the aligned table.
fn render(
    cfg: &Config,
    targets: &[resolve::Target],
    sums: &[Option<stats::Summary>],
    w: &mut impl Write,
) -> io::Result<()> {
    let empty = stats::Summary::default();
    let rows: Vec<report::Row> = targets
        .iter()
        .zip(sums)
        .map(|(t, s)| report::Row {
            name: &t.name,
            addr: t.ip(),
            summary: if t.addr.is_ok() {
                Some(s.as_ref().unwrap_or(&empty))
            } else {
                None
            },
        })
        .collect();
    match (cfg.show, cfg.format) {
        (Show::Alive | Show::Unreachable, _) => {
            let want_alive = cfg.show == Show::Alive;
            for (r, s) in rows.iter().zip(sums) {
                if answered(cfg, s.as_ref()) == want_alive {
                    writeln!(w, "{}", report::printable(r.name))?;
                }
            }
        }
        (Show::All, Format::Tsv) => report::write_tsv(&rows, w)?,
        // Always rendered as a report (monitor::Reporter::finish), never as a summary.
        (Show::All, Format::Prometheus | Format::Influx) => {}
        (Show::All, Format::Json) => {
            for r in &rows {
                w.write_all(report::json_summary(r).as_bytes())?;
            }
        }
        (Show::All, Format::Text | Format::Fping) => {
            for r in &rows {
                if let Some(s) = r.summary {
                    w.write_all(report::stats_block(r.name, s).as_bytes())?;
                }
            }
            if rows.len() > 1 {
                w.write_all(b"\n")?;
                report::write_table(&rows, w)?;
            }
        }
    }
    w.flush()
}

// ---- fping personality (issue 11) -------------------------------------------------------

/// pingr called as `fping`/`fping6`: fping's grammar, then the same run, then fping's report
/// and exit status. Messages start with the program name as invoked, as fping's do.
fn fping_main(prog: &str, family: Option<packet::Family>, args: &[String]) -> u8 {
    match cli::fping::parse(prog, family, args) {
        Err(e) => {
            eprintln!("{prog}: {e}");
            error::EXIT_USAGE
        }
        Ok(Command::Help) => print_quietly(&cli::fping::usage(prog)),
        Ok(Command::Version) => print_quietly(&cli::fping::version(prog)),
        Ok(Command::Run(cfg)) => match run_fping(cfg) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{prog}: {e}");
                e.exit_status()
            }
        },
    }
}

/// fping's safe limits in fping's words, with pingr's real limits: exit 1, as fping does
/// (Zabbix reads the numbers from the second line).
fn fping_flood(cfg: &Config, prog: &str, real_uid: u32) -> Option<u8> {
    if real_uid == 0 || (cfg.interval >= USER_MIN_INTERVAL && cfg.gap >= USER_MIN_GAP) {
        return None;
    }
    eprintln!("{prog}: these options are too risky for mere mortals.");
    eprintln!(
        "{prog}: You need -i >= {} and -p >= {}",
        USER_MIN_GAP.as_millis(),
        USER_MIN_INTERVAL.as_millis()
    );
    Some(error::EXIT_SOME_SILENT)
}

/// Sixteen bytes that differ from run to run, for `-R` (std's per-process hash keys).
fn random_pattern() -> Vec<u8> {
    use std::hash::{BuildHasher, Hasher};
    let mut out = Vec::with_capacity(16);
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i ^ u64::from(sys::pid()));
        out.extend_from_slice(&h.finish().to_be_bytes());
    }
    out
}

fn run_fping(mut cfg: Config) -> Result<u8, Error> {
    let Some(f) = cfg.fping.clone() else {
        return run(cfg);
    };
    if let Some(code) = fping_flood(
        &cfg,
        &f.prog,
        sys::ids().map(|i| i.ruid).unwrap_or(u32::MAX),
    ) {
        return Ok(code);
    }
    if f.random {
        cfg.pattern = Some(random_pattern());
    }
    // The same steps as pingr's own run, in the same order (see `run`).
    let mut opened = sockets_then_drop(&cfg)?;
    let mut targets = resolve::targets(&cfg)?;
    if f.all_addrs {
        targets = resolve::every_address(targets, cfg.family);
    }
    let unresolved = targets.iter().filter(|t| t.addr.is_err()).count();
    if !cfg.quiet {
        let mut err = String::new();
        for t in targets.iter() {
            if let Err(e) = &t.addr {
                err.push_str(&report::fping::unresolved_line(&t.name, e));
            }
        }
        let _ = io::stderr().lock().write_all(err.as_bytes());
    }
    let plan = serve(&cfg, &mut opened, &targets)?;
    let targets = Arc::new(targets);
    let started = std::time::Instant::now();
    let Some(r) = probe(&cfg, &targets, &plan, opened.sockets, None)? else {
        // No host to ping: fping ends here, 2 if a name failed, else 1.
        return Ok(if unresolved > 0 {
            error::EXIT_UNRESOLVED
        } else {
            error::EXIT_SOME_SILENT
        });
    };
    let Some(board) = r.fping.as_ref() else {
        return Err(Error::System("fping output was not set up".into()));
    };
    let sums: Vec<&stats::Summary> = r.summaries.iter().flatten().collect();
    let totals = report::fping::Totals {
        stats: f.stats,
        echos_sent: sums.iter().map(|s| s.sent).sum(),
        replies: sums.iter().map(|s| s.received + s.dups + s.late).sum(),
        other_icmp: sums.iter().map(|s| s.errors).sum(),
        elapsed_ns: started.elapsed().as_nanos() as u64,
    };
    let (out, err) = board.finish(&totals);
    if r.broken_pipe {
        return Ok(error::EXIT_SOME_SILENT);
    }
    // stdout first and flushed, then stderr: merged streams read in fping's order.
    let mut so = io::stdout().lock();
    let _ = so.write_all(out.as_bytes()).and_then(|_| so.flush());
    let _ = io::stderr().lock().write_all(err.as_bytes());
    let resolved = targets.len() - unresolved;
    if let Some(required) = f.reachable {
        let (line, code) = report::fping::reachable_verdict(required, board.alive());
        let _ = so.write_all(line.as_bytes()).and_then(|_| so.flush());
        return Ok(code);
    }
    Ok(error::run_status(unresolved > 0, board.alive() < resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Config of a pingr command line (for unit tests anywhere in the crate).
    pub(crate) fn cfg(args: &[&str]) -> Config {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        match cli::parse(&args) {
            Ok(Command::Run(c)) => c,
            _ => panic!("bad test arguments"),
        }
    }

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
    fn only_root_may_flood() {
        let flood = cfg(&["-i", "0", "-c", "5", "h"]);
        assert!(check_flood(&flood, 0).is_ok());
        let e = check_flood(&flood, 1000).unwrap_err();
        assert!(e.to_string().starts_with("-i: "), "{e}");
        assert_eq!(e.exit_status(), 3);
        assert!(check_flood(&cfg(&["-i", "0", "-c", "1", "h"]), 1000).is_ok());
        assert!(check_flood(&cfg(&["-i", "0.002", "h"]), 1000).is_ok());
        let gap = cfg(&["--gap", "0.5", "h"]);
        assert!(check_flood(&gap, 0).is_ok());
        assert!(check_flood(&gap, 1000)
            .unwrap_err()
            .to_string()
            .starts_with("--gap: "));
        assert!(check_flood(&cfg(&["h"]), 1000).is_ok());
    }
}
