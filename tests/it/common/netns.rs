//! Network namespaces ([`Netns`]: loopback up, removed on drop, stale ones of killed runs
//! removed) and the veth pairs between them ([`Veth`]).

use super::*;

/// A network namespace made for one test: `pingr-t-<pid>-<counter>`, loopback up
/// (so 127.0.0.1 and ::1 exist). Dropping it kills every process left inside and
/// deletes it, which also removes its veth ends.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        static CLEAN: std::sync::Once = std::sync::Once::new();
        CLEAN.call_once(remove_stale_namespaces);
        let name = format!("pingr-t-{}-{}", std::process::id(), next_id());
        check(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.run("ip link set lo up");
        ns
    }

    /// A "silent host": the kernel ignores echo requests (IPv4 and IPv6), so only
    /// a responder running inside answers, or nothing does.
    pub fn new_silent() -> Netns {
        let ns = Netns::new();
        ns.silence();
        ns
    }

    /// Switch off the kernel's echo replies in this namespace.
    pub fn silence(&self) {
        self.sysctl("net.ipv4.icmp_echo_ignore_all", "1");
        self.sysctl("net.ipv6.icmp.echo_ignore_all", "1");
    }

    /// `ip netns exec NAME prog args...`
    pub fn exec<I, S>(&self, prog: impl AsRef<OsStr>, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(prog).args(args);
        c
    }

    /// `cmd` (program, args, env, cwd) run inside this namespace. Compose with
    /// [`User::wrap`] as `ns.wrap(&user.wrap(&cmd))`: enter first, then drop privileges.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let ip: &OsStr = "ip".as_ref();
        clone_command(
            cmd,
            ip,
            &["netns".as_ref(), "exec".as_ref(), self.name.as_ref()],
        )
    }

    /// Run `cmd` inside this namespace as `user` (e.g. pingr with exactly chosen caps).
    pub fn exec_as(&self, user: &User, cmd: &Command) -> Command {
        self.wrap(&user.wrap(cmd))
    }

    /// Run a shell line inside the namespace; panics with its stderr on failure.
    pub fn run(&self, shell_line: &str) -> String {
        check(&mut self.exec("sh", ["-c", shell_line]))
    }

    /// `sysctl -qw key=value` inside the namespace (panics on failure).
    pub fn sysctl(&self, key: &str, value: &str) {
        check(&mut self.exec("sysctl", ["-qw", &format!("{key}={value}")]));
    }

    /// Let gids `lo..=hi` open unprivileged ICMP (ping) sockets in this namespace
    /// (`net.ipv4.ping_group_range`, which also governs ICMPv6 ping sockets).
    pub fn allow_ping_group(&self, lo: u32, hi: u32) {
        self.sysctl("net.ipv4.ping_group_range", &format!("{lo} {hi}"));
    }

    /// Add an address (`10.0.0.1/24`, `fd00::1/64`) to `dev`; IPv6 gets `nodad`.
    pub fn add_addr(&self, dev: &str, cidr: &str) {
        let nodad = if cidr.contains(':') { " nodad" } else { "" };
        self.run(&format!("ip addr add {cidr} dev {dev}{nodad}"));
    }

    /// Pids of the processes living in this namespace.
    pub fn pids(&self) -> Vec<u32> {
        namespace_pids(&self.name)
    }
}

impl Default for Netns {
    fn default() -> Self {
        Netns::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        delete_namespace(&self.name);
    }
}

fn namespace_pids(name: &str) -> Vec<u32> {
    let out = Command::new("ip")
        .args(["netns", "pids", name])
        .stderr(Stdio::null())
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Kill what runs in the namespace (by pid), then delete it. Never panics.
fn delete_namespace(name: &str) {
    for _ in 0..3 {
        let pids = namespace_pids(name);
        if pids.is_empty() {
            break;
        }
        let mut kill = Command::new("kill");
        kill.arg("-KILL").args(pids.iter().map(u32::to_string));
        let _ = kill.stderr(Stdio::null()).status();
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("ip")
        .args(["netns", "del", name])
        .stderr(Stdio::null())
        .status();
}

/// Delete `pingr-t-<pid>-*` namespaces whose creating process is gone (a test
/// run that was killed before its `Drop`s ran).
fn remove_stale_namespaces() {
    let out = Command::new("ip").args(["netns", "list"]).output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for name in text.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(rest) = name.strip_prefix("pingr-t-") else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            delete_namespace(name);
        }
    }
}

fn strip_prefix_len(cidr: &str) -> String {
    cidr.split('/').next().unwrap_or(cidr).to_string()
}

/// A veth pair between two namespaces, up, with addresses on both ends. It goes
/// away when either namespace is dropped.
pub struct Veth {
    pub a_ns: String,
    pub b_ns: String,
    pub a_dev: String,
    pub b_dev: String,
    /// Addresses (without prefix length) on the `a` end, in the order added.
    pub a_addrs: Vec<String>,
    /// Addresses (without prefix length) on the `b` end, in the order added.
    pub b_addrs: Vec<String>,
}

impl Veth {
    /// `Veth::new(&a, "10.201.0.1/24", &b, "10.201.0.2/24")`. IPv6 addresses
    /// (`fd00::1/64`) are added with `nodad`, so they are usable at once.
    pub fn new(a: &Netns, a_cidr: &str, b: &Netns, b_cidr: &str) -> Veth {
        let n = next_id();
        let (a_dev, b_dev) = (format!("pv{n}a"), format!("pv{n}b"));
        a.run(&format!(
            "ip link add {a_dev} type veth peer name {b_dev} netns {}",
            b.name
        ));
        let mut v = Veth {
            a_ns: a.name.clone(),
            b_ns: b.name.clone(),
            a_dev,
            b_dev,
            a_addrs: Vec::new(),
            b_addrs: Vec::new(),
        };
        v.add_addrs(a, a_cidr, b, b_cidr);
        a.run(&format!("ip link set {} up", v.a_dev));
        b.run(&format!("ip link set {} up", v.b_dev));
        v
    }

    /// A dual-stack pair: `10.201.N.1/24` + `fd00:201:N::1/64` on `a`, `.2`/`::2` on
    /// `b` (N from a counter). `a_addrs`/`b_addrs` are `[v4, v6]`.
    pub fn dual(a: &Netns, b: &Netns) -> Veth {
        let n = next_id() % 250;
        let mut v = Veth::new(
            a,
            &format!("10.201.{n}.1/24"),
            b,
            &format!("10.201.{n}.2/24"),
        );
        v.add_addrs(
            a,
            &format!("fd00:201:{n}::1/64"),
            b,
            &format!("fd00:201:{n}::2/64"),
        );
        v
    }

    /// Add one more address on each end (same family, same subnet, normally).
    pub fn add_addrs(&mut self, a: &Netns, a_cidr: &str, b: &Netns, b_cidr: &str) {
        a.add_addr(&self.a_dev, a_cidr);
        b.add_addr(&self.b_dev, b_cidr);
        self.a_addrs.push(strip_prefix_len(a_cidr));
        self.b_addrs.push(strip_prefix_len(b_cidr));
    }

    fn first(addrs: &[String], v6: bool) -> &str {
        let found = addrs.iter().find(|a| a.contains(':') == v6);
        found
            .map(String::as_str)
            .expect("no address of that family on this veth end")
    }
    pub fn a_v4(&self) -> &str {
        Veth::first(&self.a_addrs, false)
    }
    pub fn b_v4(&self) -> &str {
        Veth::first(&self.b_addrs, false)
    }
    pub fn a_v6(&self) -> &str {
        Veth::first(&self.a_addrs, true)
    }
    pub fn b_v6(&self) -> &str {
        Veth::first(&self.b_addrs, true)
    }
}
