//! What a run prints around the engine: `-v` lines, unresolved names, the final report.
//!
//! Out of `main`: the `-v` lines, the lines of names that did not resolve, and the final report
//! (names only with `-a`/`-u`, TSV, JSON, or the per-host blocks and the table; through
//! `--output`/the monitoring reporter when one runs; fping's summaries and verdict for the fping
//! personality). It decides no exit status (`error::status` does) and opens nothing.

use super::{fping, json_summary, printable, stats_block, write_table, write_tsv, Row};
use crate::cli::{Config, Format, Show};
use crate::engine::{self, RunResult};
use crate::error;
use crate::monitor;
use crate::resolve::Target;
use crate::stats::Summary;
use std::io::{self, Write};

/// Writes `s` to stdout, ignoring a closed pipe (help and version texts); exit status 0.
pub fn print_quietly(s: &str) -> u8 {
    let _ = io::stdout().lock().write_all(s.as_bytes());
    error::EXIT_ALL_ANSWERED
}

/// With `-v`, each line on stderr.
pub fn verbose(cfg: &Config, lines: &[String]) {
    if cfg.verbose {
        for l in lines {
            eprintln!("pingr: {l}");
        }
    }
}

/// The `-v` line that follows the drop: what the targets resolved to (`unserved`: how many
/// resolved targets no socket can serve).
pub fn resolved_note(targets: &[Target], unserved: usize) -> String {
    let (mut v4, mut v6) = (0, 0);
    for t in targets {
        match t.ip() {
            Some(std::net::IpAddr::V4(_)) => v4 += 1,
            Some(std::net::IpAddr::V6(_)) => v6 += 1,
            None => {}
        }
    }
    let failed = targets.len() - v4 - v6;
    format!(
        "resolved {} targets after the drop: {v4} IPv4, {v6} IPv6, {failed} not resolved, {unserved} without a usable socket",
        targets.len(),
    )
}

/// One stderr line per target whose name did not resolve (pingr's own shape).
pub fn unresolved(targets: &[Target]) {
    for t in targets {
        if let Err(e) = &t.addr {
            eprintln!("pingr: {}: {e}", printable(&t.name));
        }
    }
}

/// fping's lines for the names that did not resolve, in one write to stderr (none with `-q`).
pub fn fping_unresolved(cfg: &Config, targets: &[Target]) {
    if cfg.quiet {
        return;
    }
    let mut err = String::new();
    for t in targets {
        if let Err(e) = &t.addr {
            err.push_str(&fping::unresolved_line(&t.name, e));
        }
    }
    let _ = io::stderr().lock().write_all(err.as_bytes());
}

/// The end of pingr's own run: the final report on stdout -- or, with a monitoring reporter,
/// whatever it still has to deliver (the last report itself when it is the final one, else
/// the summary through `--output`'s or stdout's path). `engine_ran` is false when nothing was
/// probed, so the engine made no last report. The caller decides what an error means.
pub fn finish(
    cfg: &Config,
    targets: &[Target],
    summaries: &[Option<Summary>],
    reporter: Option<&monitor::Reporter>,
    engine_ran: bool,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 << 10, io::stdout().lock());
    match reporter {
        None => render(cfg, targets, summaries, &mut out),
        // Nothing was probed: the last report (all zeros) was not made by the engine.
        Some(rep) if rep.last_report_is_final() && !engine_ran => {
            let text = engine::Reporter::report(rep, &[], true);
            out.write_all(text.as_deref().unwrap_or_default().as_bytes())
                .and_then(|_| out.flush())
        }
        Some(rep) if rep.last_report_is_final() => Ok(()),
        Some(rep) => {
            let mut bytes = Vec::new();
            render(cfg, targets, summaries, &mut bytes).and_then(|()| {
                let mut res = Ok(());
                rep.deliver(bytes, |b| res = out.write_all(&b).and_then(|_| out.flush()));
                res
            })
        }
    }
}

/// Writes the report: names only (-a/-u), the TSV table, JSON summaries, or the per-host
/// statistics blocks and (several targets) the aligned table.
pub fn render(
    cfg: &Config,
    targets: &[Target],
    sums: &[Option<Summary>],
    w: &mut dyn Write,
) -> io::Result<()> {
    let empty = Summary::default();
    let rows: Vec<Row> = targets
        .iter()
        .zip(sums)
        .map(|(t, s)| Row {
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
                if error::answered(s.as_ref(), cfg.max_loss) == want_alive {
                    writeln!(w, "{}", printable(r.name))?;
                }
            }
        }
        (Show::All, Format::Tsv) => write_tsv(&rows, w)?,
        // Always rendered as a report (monitor::Reporter::finish), never as a summary.
        (Show::All, Format::Prometheus | Format::Influx) => {}
        (Show::All, Format::Json) => {
            for r in &rows {
                w.write_all(json_summary(r).as_bytes())?;
            }
        }
        (Show::All, Format::Text | Format::Fping) => {
            for r in &rows {
                if let Some(s) = r.summary {
                    w.write_all(stats_block(r.name, s).as_bytes())?;
                }
            }
            if rows.len() > 1 {
                w.write_all(b"\n")?;
                write_table(&rows, w)?;
            }
        }
    }
    w.flush()
}

/// The end of the fping personality's run: the per-host summaries and the `-s` totals from
/// fping's board, stdout first and flushed, then stderr (merged streams read in fping's
/// order), then the `-x`/`-X` verdict line. Returns the verdict's exit status with `-x`/`-X`,
/// else None. Nothing is written after a closed pipe.
pub fn fping_finish(
    board: &fping::Board,
    r: &RunResult,
    f: &crate::cli::Fping,
    elapsed_ns: u64,
) -> Option<u8> {
    let mut totals = fping::Totals {
        stats: f.stats,
        elapsed_ns,
        ..fping::Totals::default()
    };
    for s in r.summaries.iter().flatten() {
        totals.echos_sent += s.sent;
        totals.replies += s.received + s.dups + s.late;
        totals.other_icmp += s.errors;
    }
    let (out, err) = board.finish(&totals);
    if r.broken_pipe {
        return None;
    }
    let mut so = io::stdout().lock();
    let _ = so.write_all(out.as_bytes()).and_then(|_| so.flush());
    let _ = io::stderr().lock().write_all(err.as_bytes());
    let required = f.reachable?;
    let (line, code) = fping::reachable_verdict(required, board.alive());
    let _ = so.write_all(line.as_bytes()).and_then(|_| so.flush());
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::cfg;

    fn target(name: &str, addr: Option<&str>) -> Target {
        Target {
            name: name.into(),
            addr: match addr {
                Some(a) => Ok(std::net::SocketAddr::new(a.parse().unwrap(), 0)),
                None => Err("Name or service not known".into()),
            },
        }
    }

    fn rendered(args: &[&str], targets: &[Target], sums: &[Option<Summary>]) -> String {
        let mut w = Vec::new();
        render(&cfg(args), targets, sums, &mut w).unwrap();
        String::from_utf8(w).unwrap()
    }

    #[test]
    fn alive_and_unreachable_list_names_by_the_exit_rule() {
        let targets = [
            target("up", Some("127.0.0.1")),
            target("down", Some("127.0.0.2")),
            target("lossy", Some("::1")),
            target("bad.invalid", None),
        ];
        let s = |sent, received| Summary {
            sent,
            received,
            ..Summary::default()
        };
        let sums = [Some(s(2, 2)), Some(s(2, 0)), Some(s(2, 1)), None];
        assert_eq!(rendered(&["-a", "h"], &targets, &sums), "up\nlossy\n");
        assert_eq!(
            rendered(&["-u", "h"], &targets, &sums),
            "down\nbad.invalid\n"
        );
        let strict = ["-a", "--max-loss", "10", "h"];
        assert_eq!(rendered(&strict, &targets, &sums), "up\n");
        // Several targets: a block each for the resolved ones, then the table.
        let text = rendered(&["h"], &targets, &sums);
        assert_eq!(text.matches("ping statistics ---").count(), 3, "{text}");
        assert!(text.contains("bad.invalid"), "{text}");
    }

    #[test]
    fn the_resolved_note_counts_families() {
        let targets = [
            target("a", Some("127.0.0.1")),
            target("b", Some("::1")),
            target("c", None),
        ];
        assert_eq!(
            resolved_note(&targets, 1),
            "resolved 3 targets after the drop: 1 IPv4, 1 IPv6, 1 not resolved, 1 without a usable socket"
        );
    }
}
