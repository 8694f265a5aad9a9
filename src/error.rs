//! The one table of exit statuses, the errors that end a run early, and the exit decision.
//!
//! An error carries its parts (the option and what it accepts; the system call and the
//! `io::Error`), and `Display` puts them into the one-line message; [`short`] is the one text of an
//! `io::Error`. The exit decision of a run that reached its report ([`status`], [`reported`]) is a
//! pure function of its outcome. `main` is the only place that turns these into a process exit;
//! nothing here prints.

use crate::stats::Summary;
use std::borrow::Cow;
use std::fmt;
use std::io;

/// Exit statuses (mirrored in the man page's EXIT STATUS and in the tests).
pub const EXIT_ALL_ANSWERED: u8 = 0;
pub const EXIT_SOME_SILENT: u8 = 1;
pub const EXIT_UNRESOLVED: u8 = 2;
pub const EXIT_USAGE: u8 = 3;
pub const EXIT_SYSTEM: u8 = 4;

/// An error that stops pingr before or instead of a report: one pointer wide (what it is, in
/// [`Kind`], is boxed), so that `?` on a `Result<_, Error>` moves 8 bytes.
#[derive(Debug)]
pub struct Error(Box<Kind>);

/// What an [`Error`] is.
#[derive(Debug)]
pub enum Kind {
    /// A bad command line (or what it names: a target file, a prefix): nothing was sent.
    Usage(Usage),
    /// A system call or operation failed: which one, and what the kernel said.
    System { call: Call, err: io::Error },
    /// No socket can serve the targets: the privilege policy's diagnosis and what to do.
    NoSocket(String),
    /// The privilege drop's calls succeeded but its check found something still held.
    StillPrivileged(Held),
    /// A broken promise inside pingr (a bug), not anything the user or system did.
    Internal(&'static str),
}

/// A command-line mistake, by its parts (see [`Parts`], which it derefs to): the option at fault
/// and what is wrong with it. One pointer wide, so that every `?` on a `Result<_, Usage>` moves a
/// pointer, not the parts. `Display` prints the message only (one line); `main` prefixes the
/// program name and exits with status 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage(Box<Parts>);

/// What a [`Usage`] error says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// The option as spelled (`-c`, `--every`), with its value where the message names it
    /// (`-f hosts`, `-g 10.0.0.0/8`); None when the mistake is the command line as a whole
    /// (no target, two options that exclude each other).
    pub option: Option<String>,
    pub problem: Problem,
}

impl std::ops::Deref for Usage {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What is wrong with an option, or with the whole command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A value the option does not accept: "expected ACCEPTED, got 'GOT'" (GOT made safe to
    /// print by the caller, see `cli::values::shown`).
    Expected { accepted: String, got: String },
    /// The option needs a value and has none.
    MissingValue,
    /// A flag was given a value (`--help=x`).
    TakesNoValue,
    /// An option the grammar does not know: "unknown option 'OPT' (see HELP)".
    Unknown { help: &'static str },
    /// What is accepted, stated as a rule the command line broke ("below 0.002 seconds is
    /// for root only (users cannot flood)", "-4 and -6 cannot be used together").
    Rule(Cow<'static, str>),
}

/// The system call or operation that failed, as the message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Starting the engine (its threads and wake-up pipes): "cannot start: ...".
    Start,
    /// Writing the report to standard output: "write error: ...".
    WriteStdout,
    /// One call of the privilege drop (`getresuid`, `setresuid`, `PR_CAP_AMBIENT`, `capset`,
    /// `PR_SET_NO_NEW_PRIVS`, `capget`): "could not drop privileges (CALL: ...)".
    Drop(&'static str),
    /// Replacing `--output FILE` (the name as printed): "--output FILE: ...".
    Output(String),
}

/// What the privilege drop's check found still held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// A setuid/setgid identity (effective or saved ids differ from the real ones).
    Ids,
    /// A capability in some set, or no_new_privs not set.
    Capabilities,
}

impl Error {
    /// The one mapping from an error to the exit table.
    pub fn exit_status(&self) -> u8 {
        match *self.0 {
            Kind::Usage(_) => EXIT_USAGE,
            Kind::System { .. }
            | Kind::NoSocket(_)
            | Kind::StillPrivileged(_)
            | Kind::Internal(_) => EXIT_SYSTEM,
        }
    }

    pub fn system(call: Call, err: io::Error) -> Error {
        Error::from(Kind::System { call, err })
    }

    /// No socket can serve the targets: `why` and what to do.
    pub fn no_socket(why: String) -> Error {
        Error::from(Kind::NoSocket(why))
    }

    /// The privilege drop's check found this still held.
    pub fn still_privileged(held: Held) -> Error {
        Error::from(Kind::StillPrivileged(held))
    }

    /// A bug inside pingr.
    pub fn internal(what: &'static str) -> Error {
        Error::from(Kind::Internal(what))
    }
}

impl From<Kind> for Error {
    fn from(k: Kind) -> Error {
        Error(Box::new(k))
    }
}

impl From<Usage> for Error {
    fn from(u: Usage) -> Error {
        Error::from(Kind::Usage(u))
    }
}

impl Usage {
    /// The one place a `Usage` is made (not generic, so not copied per caller).
    fn new(option: Option<String>, problem: Problem) -> Usage {
        Usage(Box::new(Parts { option, problem }))
    }

    /// `problem` with `option`.
    pub fn of(option: impl Into<String>, problem: Problem) -> Usage {
        Usage::new(Some(option.into()), problem)
    }

    /// An option the grammar does not know (as spelled, made safe to print), and where its
    /// help is.
    pub fn unknown(option: impl Into<String>, help: &'static str) -> Usage {
        Usage::new(Some(option.into()), Problem::Unknown { help })
    }

    /// A rule `option` broke.
    pub fn rule(option: impl Into<String>, rule: impl Into<Cow<'static, str>>) -> Usage {
        Usage::new(Some(option.into()), Problem::Rule(rule.into()))
    }

    /// A rule the command line as a whole broke (no option to name).
    pub fn whole(rule: impl Into<Cow<'static, str>>) -> Usage {
        Usage::new(None, Problem::Rule(rule.into()))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Expected { accepted, got } => write!(f, "expected {accepted}, got '{got}'"),
            Problem::MissingValue => f.write_str("missing value"),
            Problem::TakesNoValue => f.write_str("does not take a value"),
            Problem::Unknown { help } => write!(f, "unknown option (see {help})"),
            Problem::Rule(r) => f.write_str(r),
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.option, &self.problem) {
            (Some(o), Problem::Unknown { help }) => {
                write!(f, "unknown option '{o}' (see {help})")
            }
            (Some(o), p) => write!(f, "{o}: {p}"),
            (None, p) => write!(f, "{p}"),
        }
    }
}

impl std::error::Error for Usage {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Kind::Usage(u) => write!(f, "{u}"),
            Kind::System { call, err } => {
                let e = short(err);
                match call {
                    Call::Start => write!(f, "cannot start: {e}"),
                    Call::WriteStdout => write!(f, "write error: {e}"),
                    Call::Drop(c) => write!(f, "could not drop privileges ({c}: {e})"),
                    Call::Output(path) => write!(f, "--output {path}: {e}"),
                }
            }
            Kind::NoSocket(why) => f.write_str(why),
            Kind::StillPrivileged(Held::Ids) => {
                f.write_str("could not return to the real user and group ids")
            }
            Kind::StillPrivileged(Held::Capabilities) => {
                f.write_str("capabilities are still held after the drop; refusing to run")
            }
            Kind::Internal(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {}

/// An io::Error's text without the "(os error N)" tail: the one place that makes it.
pub fn short(e: &io::Error) -> String {
    let mut s = e.to_string();
    if let Some(i) = s.find(" (os error") {
        s.truncate(i);
    }
    s
}

/// A target "answered" when it replied at least once and its loss is within `--max-loss`.
pub fn answered(s: Option<&Summary>, max_loss: Option<f64>) -> bool {
    s.is_some_and(|s| s.received > 0 && max_loss.map_or(true, |m| s.loss_percent() <= m))
}

/// The status of a run that reached its report, from each target's outcome in input order
/// (None: its name did not resolve; else what was measured, if anything): 2 if any name did
/// not resolve (it takes precedence), else 1 if fewer targets answered than `--min-alive`
/// asks (without it: than resolved), else 0.
pub fn status<'a>(
    outcomes: impl IntoIterator<Item = Option<Option<&'a Summary>>>,
    max_loss: Option<f64>,
    min_alive: Option<u64>,
) -> u8 {
    let (mut unresolved, mut resolved, mut alive) = (false, 0usize, 0usize);
    for o in outcomes {
        match o {
            None => unresolved = true,
            Some(s) => {
                resolved += 1;
                alive += usize::from(answered(s, max_loss));
            }
        }
    }
    let silent = match min_alive {
        Some(n) => (alive as u64) < n,
        None => alive < resolved,
    };
    run_status(unresolved, silent)
}

/// The outcome of a run once its final report was written: exit 4 when `--output` could not
/// be replaced (already said on stderr), a write error (a closed pipe is none: it ends the run
/// quietly), else `status`.
pub fn reported(written: io::Result<()>, output_failed: bool, status: u8) -> Result<u8, Error> {
    if output_failed {
        return Ok(EXIT_SYSTEM);
    }
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::system(Call::WriteStdout, e)),
        _ => Ok(status),
    }
}

/// 2 if any name did not resolve (it takes precedence), else 1 if any target never answered,
/// else 0.
pub fn run_status(unresolved: bool, silent: bool) -> u8 {
    if unresolved {
        EXIT_UNRESOLVED
    } else if silent {
        EXIT_SOME_SILENT
    } else {
        EXIT_ALL_ANSWERED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(sent: u64, received: u64) -> Summary {
        Summary {
            sent,
            received,
            ..Summary::default()
        }
    }

    #[test]
    fn statuses_follow_the_table() {
        assert_eq!(run_status(false, false), 0);
        assert_eq!(run_status(false, true), 1);
        assert_eq!(run_status(true, false), 2);
        assert_eq!(run_status(true, true), 2);
    }

    #[test]
    fn every_error_maps_to_its_exit_status() {
        let io = || io::Error::from_raw_os_error(libc::EPERM);
        assert_eq!(Error::from(Usage::whole("x")).exit_status(), EXIT_USAGE);
        for e in [
            Error::system(Call::Start, io()),
            Error::system(Call::WriteStdout, io()),
            Error::system(Call::Drop("capset"), io()),
            Error::system(Call::Output("f".into()), io()),
            Error::no_socket("why".into()),
            Error::still_privileged(Held::Ids),
            Error::still_privileged(Held::Capabilities),
            Error::internal("bug"),
        ] {
            assert_eq!(e.exit_status(), EXIT_SYSTEM, "{e}");
        }
    }

    #[test]
    fn usage_errors_name_the_option_and_what_it_accepts() {
        let u = Usage::of(
            "-c",
            Problem::Expected {
                accepted: "a whole number from 1 to 9".into(),
                got: "x\\ny".into(),
            },
        );
        assert_eq!(u.option.as_deref(), Some("-c"));
        assert_eq!(
            u.to_string(),
            "-c: expected a whole number from 1 to 9, got 'x\\ny'"
        );
        let e = |o: &str, p| Usage::of(o, p).to_string();
        assert_eq!(e("--gap", Problem::MissingValue), "--gap: missing value");
        assert_eq!(
            e("--help", Problem::TakesNoValue),
            "--help: does not take a value"
        );
        assert_eq!(
            e(
                "--bogus",
                Problem::Unknown {
                    help: "pingr --help"
                }
            ),
            "unknown option '--bogus' (see pingr --help)"
        );
        assert_eq!(
            Usage::rule("-i", "below 0.002 seconds is for root only").to_string(),
            "-i: below 0.002 seconds is for root only"
        );
        let whole = Usage::whole("no target given");
        assert_eq!(whole.option, None);
        assert_eq!(Error::from(whole).to_string(), "no target given");
    }

    #[test]
    fn system_errors_name_the_call_and_drop_the_errno_tail() {
        let io = || io::Error::from_raw_os_error(libc::EPIPE);
        let text = |c| Error::system(c, io()).to_string();
        assert_eq!(text(Call::Start), "cannot start: Broken pipe");
        assert_eq!(text(Call::WriteStdout), "write error: Broken pipe");
        assert_eq!(
            text(Call::Drop("capset")),
            "could not drop privileges (capset: Broken pipe)"
        );
        assert_eq!(
            text(Call::Output("/x/y.prom".into())),
            "--output /x/y.prom: Broken pipe"
        );
        match *Error::system(Call::Start, io()).0 {
            Kind::System { ref err, .. } => assert_eq!(err.raw_os_error(), Some(libc::EPIPE)),
            ref e => panic!("{e:?}"),
        }
        assert_eq!(
            Error::still_privileged(Held::Ids).to_string(),
            "could not return to the real user and group ids"
        );
        assert_eq!(
            Error::still_privileged(Held::Capabilities).to_string(),
            "capabilities are still held after the drop; refusing to run"
        );
        assert_eq!(
            Error::no_socket("a; fix: b".into()).to_string(),
            "a; fix: b"
        );
        assert_eq!(Error::internal("bug").to_string(), "bug");
        assert_eq!(short(&io::Error::other("plain")), "plain");
    }

    #[test]
    fn after_the_report_output_and_write_failures_decide() {
        let err = |n| Err(io::Error::from_raw_os_error(n));
        assert_eq!(reported(Ok(()), false, 1).ok(), Some(1));
        assert_eq!(reported(err(libc::EPIPE), false, 0).ok(), Some(0));
        assert_eq!(reported(Ok(()), true, 0).ok(), Some(EXIT_SYSTEM));
        assert_eq!(reported(err(libc::ENOSPC), true, 0).ok(), Some(EXIT_SYSTEM));
        let e = reported(err(libc::ENOSPC), false, 0).unwrap_err();
        assert_eq!(e.to_string(), "write error: No space left on device");
        assert_eq!(e.exit_status(), EXIT_SYSTEM);
    }

    #[test]
    fn the_exit_decision_counts_answers() {
        let (ok, none, lossy) = (sum(4, 4), sum(4, 0), sum(4, 2));
        assert!(answered(Some(&ok), None));
        assert!(!answered(Some(&none), None));
        assert!(!answered(None, None));
        assert!(answered(Some(&lossy), Some(50.0)));
        assert!(!answered(Some(&lossy), Some(49.9)));
        assert_eq!(status([Some(Some(&ok))], None, None), 0);
        assert_eq!(status([Some(Some(&ok)), Some(Some(&none))], None, None), 1);
        // Nothing measured (nothing could be sent) counts as silent.
        assert_eq!(status([Some(None)], None, None), 1);
        assert_eq!(status([Some(Some(&ok)), None], None, None), 2);
        assert_eq!(status([Some(Some(&lossy))], Some(10.0), None), 1);
        let two: [Option<Option<&Summary>>; 2] = [Some(Some(&ok)), Some(Some(&none))];
        assert_eq!(status(two, None, Some(1)), 0);
        assert_eq!(status(two, None, Some(2)), 1);
        assert_eq!(status([], None, None), 0);
    }
}
