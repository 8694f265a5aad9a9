//! pingr: ICMP echo for many hosts at once, with the least privilege that works.
//!
//! `main` is thin: choose the grammar by program name, parse the command line, check the flood
//! rule, open sockets, drop privileges, read target files and resolve, run, report, and map the
//! outcome to the exit status (the only place that exits). Nothing from the network or from a
//! target file is read with privilege. The steps are in `steps.rs`, the texts in `report/`, the
//! exit decision in `error.rs`.

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
mod steps;
#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod testrng;

use cli::{Command, Config, Personality};
use error::Error;
use report::run as out;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let mut argv: Vec<String> = Vec::new();
    for a in std::env::args_os() {
        argv.push(a.to_string_lossy().into_owned());
    }
    let (argv0, args) = argv
        .split_first()
        .map_or(("", &[][..]), |(a, r)| (a.as_str(), r));
    // The personality switch: one binary, the grammar and output family by program name.
    // Messages start with the program name: pingr's own, or fping's as invoked (as fping's do).
    let (prog, fping, parsed) = match cli::personality(argv0) {
        Personality::Pingr => ("pingr", false, cli::parse(args)),
        Personality::Fping { family } => (argv0, true, cli::fping::parse(argv0, family, args)),
    };
    let code = match parsed {
        Err(e) => fail(prog, e.into()),
        // pingr's texts get their newline here; fping's end with one.
        Ok(Command::Help) if fping => out::print_quietly(&cli::fping::usage(prog)),
        Ok(Command::Help) => print_line(cli::usage()),
        Ok(Command::Version) if fping => out::print_quietly(&cli::fping::version(prog)),
        Ok(Command::Version) => print_line(cli::version()),
        Ok(Command::Run(cfg)) => run_fping(cfg).unwrap_or_else(|e| fail(prog, e)),
    };
    ExitCode::from(code)
}

/// One line on stderr, prefixed with the program name; the error's exit status.
fn fail(prog: &str, e: Error) -> u8 {
    eprintln!("{prog}: {e}");
    e.exit_status()
}

/// A text and a newline on standard output (pingr's `--help` and `--version`).
fn print_line(mut text: String) -> u8 {
    text.push('\n');
    out::print_quietly(&text)
}

/// The run order, for pingr's own grammar. Only the first two steps run with privilege:
/// nothing from a file, standard input or the network (DNS answers included) is read
/// before the drop. The fping personality keeps the same steps in the same order.
fn run(cfg: Config) -> Result<u8, Error> {
    // 1. The command line, parsed: users cannot flood.
    cli::flood::check(&cfg, steps::real_uid())?;
    let cfg = Arc::new(cfg);
    // 2-6. The sockets, the drop, the targets, which socket serves which, the run.
    let Probed {
        targets,
        reporter,
        ran,
        ..
    } = open_resolve_probe(&cfg)?;
    let engine_ran = ran.is_some();
    let (summaries, broken_pipe) = match ran {
        Some(r) => (r.summaries, r.broken_pipe),
        None => (vec![None; targets.len()], false),
    };
    let status = status(&cfg, &targets, &summaries);
    if broken_pipe {
        return Ok(status);
    }
    // 7. The report, and the exit status.
    let written = out::finish(&cfg, &targets, &summaries, reporter.as_deref(), engine_ran);
    let output_failed = reporter.is_some_and(|r| r.failed());
    error::reported(written, output_failed, status)
}

/// What steps 2-6 leave for the report.
struct Probed {
    targets: Arc<Vec<resolve::Target>>,
    /// pingr's monitoring reporter, if its options ask for one (never fping's).
    reporter: Option<Arc<monitor::Reporter>>,
    /// When the engine started (fping's elapsed time).
    started: std::time::Instant,
    /// None when no target was served (every name failed to resolve).
    ran: Option<engine::RunResult>,
}

/// Steps 2-6 of both personalities: the sockets each family may need, then the drop of every
/// privilege; target files, standard input and names, with nothing held (fping's `-m`: every
/// address of a name), each name that failed said once; which socket serves which target,
/// the others getting one line each; then the run. Interim reports, --output and the
/// monitoring formats go through a reporter, which the engine calls on its clock and once at
/// the end.
fn open_resolve_probe(cfg: &Arc<Config>) -> Result<Probed, Error> {
    let opened = steps::sockets_then_drop(cfg)?;
    let mut targets = resolve::targets(cfg)?;
    match &cfg.fping {
        None => out::unresolved(&targets),
        Some(f) => {
            if f.all_addrs {
                targets = resolve::every_address(targets, cfg.family);
            }
            out::fping_unresolved(cfg, &targets);
        }
    }
    let (plan, sockets) = steps::serve(cfg, opened, &targets)?;
    let targets = Arc::new(targets);
    let reporter = (cfg.fping.is_none() && monitor::wanted(cfg))
        .then(|| Arc::new(monitor::Reporter::new(cfg, &targets, engine::real_ns())));
    let started = std::time::Instant::now();
    let ran = steps::probe(cfg, &targets, &plan, sockets, reporter.clone())?;
    Ok(Probed {
        targets,
        reporter,
        started,
        ran,
    })
}

/// The exit status of a run that reached its report ([`error::status`]).
fn status(cfg: &Config, targets: &[resolve::Target], sums: &[Option<stats::Summary>]) -> u8 {
    let outcomes = targets
        .iter()
        .zip(sums)
        .map(|(t, s)| t.addr.is_ok().then_some(s.as_ref()));
    error::status(outcomes, cfg.max_loss, cfg.min_alive)
}

// ---- fping personality (issue 11) -------------------------------------------------------

/// pingr called as `fping`/`fping6` (fping's grammar, so `cfg.fping` is set; pingr's own
/// grammar goes on to [`run`]): the same steps as pingr's own run, in the same order, with
/// fping's flood rule (exit 1), messages and report around them.
fn run_fping(mut cfg: Config) -> Result<u8, Error> {
    let Some(f) = &cfg.fping else {
        return run(cfg);
    };
    if let Some(refusal) = cli::flood::fping(&cfg, &f.prog, steps::real_uid()) {
        eprint!("{refusal}");
        return Ok(error::EXIT_SOME_SILENT);
    }
    if f.random {
        cfg.pattern = Some(steps::random_pattern());
    }
    // Shared with the engine from here on (an Arc, not a clone), fping's options borrowed
    // again after the change above (not cloned: a clone of the options costs more).
    let cfg = Arc::new(cfg);
    let Some(f) = &cfg.fping else {
        return Err(Error::internal("fping output was not set up"));
    };
    let Probed {
        targets,
        started,
        ran,
        ..
    } = open_resolve_probe(&cfg)?;
    let unresolved = targets.iter().filter(|t| t.addr.is_err()).count();
    let Some(r) = ran else {
        // No host to ping: fping ends here, 2 if a name failed, else 1.
        return Ok(error::run_status(unresolved > 0, true));
    };
    let Some(board) = r.fping.as_ref() else {
        return Err(Error::internal("fping output was not set up"));
    };
    let elapsed_ns = started.elapsed().as_nanos() as u64;
    let verdict = out::fping_finish(board, &r, f, elapsed_ns);
    if r.broken_pipe {
        return Ok(error::EXIT_SOME_SILENT);
    }
    let resolved = targets.len() - unresolved;
    Ok(verdict.unwrap_or_else(|| error::run_status(unresolved > 0, board.alive() < resolved)))
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
}
