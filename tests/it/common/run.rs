//! Running pingr as root inside a namespace of the test, and checking how it ended.

use super::*;

/// The probing options of many runs: 3 probes, 0.2 s apart, 0.5 s timeout.
pub const QUICK: &[&str] = &["-c", "3", "-i", "0.2", "-W", "0.5"];

/// A fresh namespace for a test that needs root; None after [`require_root`]'s SKIP.
pub fn root_netns(test: &str) -> Option<Netns> {
    require_root(test).then(Netns::new)
}

/// [`root_netns`] for a test that also needs `tool` ([`require_tool`]).
pub fn root_netns_with(test: &str, tool: &str) -> Option<Netns> {
    (require_root(test) && require_tool(test, tool)).then(Netns::new)
}

/// `pingr ARGS` as root inside `ns`, killed (a failure) after `secs` seconds.
pub fn pingr_in<S: AsRef<OsStr>>(ns: &Netns, args: &[S], secs: u64) -> Output {
    run_with_timeout(&mut ns.wrap(&pingr_cmd(args)), secs)
}

/// The words of `line` (split at white space): a command line written as it would be typed,
/// for arguments that hold no space themselves.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// [`words`] of `line`, then `more` (targets, say, that are not literals).
pub fn words_then<'a>(line: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut w = words(line);
    w.extend(more);
    w
}

/// The run ended with exit status `code`; otherwise a failure showing its whole output.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", describe(o));
}
