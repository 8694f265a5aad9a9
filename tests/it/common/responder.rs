//! The misbehaving ICMP responder (tests/support/responder.rs, an example binary) run
//! inside a namespace.

use super::*;

/// The misbehaving ICMP responder (tests/support/responder.rs) running inside a
/// namespace. Killed when dropped. Its `--verbose` log goes to [`Responder::log`].
pub struct Responder {
    child: Child,
    pub log_path: PathBuf,
}

impl Responder {
    /// Start `responder ARGS --verbose` in `ns` (which should be silent) and wait
    /// (at most 10 s) for its `ready`. It exits by itself after 10 minutes unless
    /// ARGS say otherwise (`--exit-after-secs`).
    pub fn start(ns: &Netns, args: &[&str]) -> Responder {
        let log_path = scratch_dir().join(format!("responder-{}.log", next_id()));
        let log = std::fs::File::create(&log_path).expect("create responder log");
        let mut cmd = ns.exec(responder_bin(), ["--exit-after-secs", "600", "--verbose"]);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first.and_then(Result::ok));
            lines.for_each(drop); // keep draining so the responder never blocks
        });
        let mut r = Responder { child, log_path };
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(line)) if line.trim() == "ready" => r,
            got => {
                let _ = r.child.kill();
                let _ = r.child.wait();
                panic!(
                    "responder {args:?} did not get ready ({got:?}); log:\n{}",
                    r.log()
                );
            }
        }
    }

    /// What the responder logged so far (requests seen, packets sent, errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Whether it is still running (it exits on its own only after `--exit-after-secs`).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}
