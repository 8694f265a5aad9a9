//! Every `unsafe` call of pingr: thin libc wrappers returning `io::Result`, checked by one `cvt`.
//!
//! They live in this module and its children (`ffi.rs`, the C side they share and `cvt`; `cmsg.rs`,
//! recvmsg with its control messages; `caps.rs`, capabilities, prctl and user ids): sockets and
//! their options, sendto, poll, pipes, signal masks. Each function is a thin wrapper that returns
//! `io::Result`, every C call checked by one `cvt` (socket2's shape); descriptors a function does
//! not own are borrowed (`impl AsFd`), the ones it makes are returned as `OwnedFd`. Policy (which
//! socket, when to drop what) belongs to `privilege.rs`, `socket.rs` and the engine, never here.
//! Nothing here interprets packet bytes beyond control messages.

use std::ffi::CStr;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

mod caps;
mod cmsg;
mod ffi;

use ffi::*;

// The split is for the reader only: callers keep saying `sys::recv_msg`, `sys::capget`.
pub use caps::*;
pub use cmsg::*;

/// `socket(2)` with `SOCK_CLOEXEC`.
pub fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket() takes plain integers; a non-negative return is a fresh descriptor
    // that nothing else owns, so wrapping it in OwnedFd is sound.
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })?;
    // SAFETY: fd is a new, valid, exclusively owned descriptor (see above).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn setsockopt_bytes(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    val: &[u8],
) -> io::Result<()> {
    // SAFETY: the pointer and length describe `val`, which outlives the call; the kernel
    // copies the bytes and checks the length itself.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            val.as_ptr().cast(),
            val.len() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `setsockopt(2)` with an `int` value.
pub fn setsockopt_int(
    fd: impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    val: libc::c_int,
) -> io::Result<()> {
    setsockopt_bytes(fd.as_fd(), level, name, &val.to_ne_bytes())
}

/// `getsockopt(2)` of an `int` value.
pub fn getsockopt_int(fd: impl AsFd, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut val: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: val and len are valid for writes; len says how many bytes val holds, and the
    // kernel writes at most that many (and stores the count it wrote in len).
    cvt(unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            std::ptr::addr_of_mut!(val).cast(),
            &mut len,
        )
    })?;
    if len as usize != size_of::<libc::c_int>() {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    Ok(val)
}

/// Kernel receive timestamps: `SO_TIMESTAMPNS` as `libc` defines it for this target (its
/// value differs by architecture, and 32-bit targets with a 64-bit `time_t` get the
/// `_NEW` variant, whose `SCM_TIMESTAMPNS` carries the same `timespec` that `libc` uses),
/// then read back. `Ok(false)`: the kernel did not keep the option on; RTTs are then taken
/// when each packet is read.
pub fn enable_timestamps(fd: impl AsFd) -> io::Result<bool> {
    let fd = fd.as_fd();
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    Ok(getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS)? != 0)
}

/// Software transmit timestamps (`SO_TIMESTAMPING`): for every datagram sent, the kernel
/// queues a copy of it on the socket's error queue with the time it was handed to the device
/// (`SCM_TIMESTAMPING`, read by `recv_msg` into `stamping_ns`). Needs no privilege.
pub fn enable_tx_timestamps(fd: impl AsFd) -> io::Result<()> {
    setsockopt_int(
        fd,
        libc::SOL_SOCKET,
        SO_TIMESTAMPING_OLD,
        SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE,
    )
}

/// Raw IPv4 ICMP socket filter: the kernel passes only the types whose bit is clear.
pub fn set_icmp_filter(fd: impl AsFd, pass_types: &[u8]) -> io::Result<()> {
    let mut mask: u32 = !0;
    for &t in pass_types {
        if t < 32 {
            mask &= !(1u32 << t);
        }
    }
    setsockopt_bytes(fd.as_fd(), SOL_RAW, ICMP_FILTER, &mask.to_ne_bytes())
}

/// Raw ICMPv6 socket filter (RFC 3542 `ICMP6_FILTER`): pass only the listed types.
pub fn set_icmp6_filter(fd: impl AsFd, pass_types: &[u8]) -> io::Result<()> {
    // struct icmp6_filter { uint32_t data[8]; } where a set bit means "block".
    let mut data = [!0u32; 8];
    for &t in pass_types {
        let word = usize::from(t >> 5);
        if let Some(w) = data.get_mut(word) {
            *w &= !(1u32 << (t & 31));
        }
    }
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(4).zip(data) {
        chunk.copy_from_slice(&w.to_ne_bytes());
    }
    setsockopt_bytes(fd.as_fd(), libc::IPPROTO_ICMPV6, ICMP6_FILTER, &bytes)
}

/// `SO_BINDTODEVICE` (needs CAP_NET_RAW on most kernels: call before dropping privileges).
pub fn bind_to_device(fd: impl AsFd, name: &str) -> io::Result<()> {
    setsockopt_bytes(
        fd.as_fd(),
        libc::SOL_SOCKET,
        libc::SO_BINDTODEVICE,
        name.as_bytes(),
    )
}

/// `bind(2)`.
pub fn bind(fd: impl AsFd, addr: &SocketAddr) -> io::Result<()> {
    let raw = raw_addr(addr);
    // SAFETY: raw.storage holds a valid sockaddr of raw.len bytes.
    cvt(unsafe {
        libc::bind(
            fd.as_fd().as_raw_fd(),
            std::ptr::addr_of!(raw.storage).cast(),
            raw.len,
        )
    })?;
    Ok(())
}

/// `getsockname(2)`.
pub fn local_addr(fd: impl AsFd) -> io::Result<SocketAddr> {
    // SAFETY: all-zero sockaddr_storage is valid.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: storage/len are valid for writes of len bytes.
    cvt(unsafe {
        libc::getsockname(
            fd.as_fd().as_raw_fd(),
            std::ptr::addr_of_mut!(storage).cast(),
            &mut len,
        )
    })?;
    from_raw_addr(&storage, len).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
}

/// `sendto(2)` of one datagram; never blocks longer than the socket allows.
pub fn send_to(fd: impl AsFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
    let raw = raw_addr(addr);
    // SAFETY: buf is valid for reads of buf.len() bytes; raw is a valid sockaddr.
    cvt(unsafe {
        libc::sendto(
            fd.as_fd().as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            0,
            std::ptr::addr_of!(raw.storage).cast(),
            raw.len,
        )
    })
    .map(len_of)
}

/// `ppoll(2)` on up to four (borrowed) descriptors for input, with a nanosecond timeout
/// (None: wait until one is ready); fills the `revents` of each.
pub fn poll_in(
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
    revents: &mut [libc::c_short],
) -> io::Result<usize> {
    let mut pfds = [libc::pollfd {
        fd: -1,
        events: libc::POLLIN,
        revents: 0,
    }; 4];
    let n = fds.len().min(pfds.len());
    for (p, fd) in pfds.iter_mut().zip(fds) {
        p.fd = fd.as_raw_fd();
    }
    let ts = timeout.map(timespec);
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: pfds holds at least n valid pollfd structs; ts_ptr is null or points at a
    // timespec that outlives the call; a null sigmask keeps the current mask.
    let r = match cvt(unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            n as libc::nfds_t,
            ts_ptr,
            std::ptr::null(),
        )
    }) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
        Err(e) => return Err(e),
    };
    for (rv, p) in revents.iter_mut().zip(&pfds[..n]) {
        *rv = p.revents;
    }
    Ok(usize::try_from(r).unwrap_or(0))
}

/// A `Duration` as the target's `timespec`, whatever its field types: `time_t` is 32 bits
/// on 32-bit glibc and 64 bits on musl and 64-bit targets, and `tv_nsec` is not always a
/// `c_long` (x32). Seconds are capped at `i32::MAX` (68 years), which fits every `time_t`.
/// Starts from zero, so any padding field a target's `timespec` has is initialised.
// `.into()` is a no-op conversion on the targets where the field is already `i32`.
#[allow(clippy::useless_conversion)]
fn timespec(d: Duration) -> libc::timespec {
    let secs = i32::try_from(d.as_secs()).unwrap_or(i32::MAX);
    let nanos = i32::try_from(d.subsec_nanos()).unwrap_or(999_999_999);
    // SAFETY: timespec is plain old data; all-zero is a valid value.
    let mut ts: libc::timespec = unsafe { zeroed() };
    ts.tv_sec = secs.into();
    ts.tv_nsec = nanos.into();
    ts
}

#[cfg(test)]
mod timespec_tests {
    use super::timespec;
    use std::time::Duration;

    #[test]
    #[allow(clippy::useless_conversion)] // i64::from is a no-op where time_t is 64 bits
    fn timespec_keeps_seconds_and_nanoseconds_and_caps_at_i32_max() {
        let t = timespec(Duration::new(5, 999_999_999));
        assert_eq!(
            (i64::from(t.tv_sec), i64::from(t.tv_nsec)),
            (5, 999_999_999)
        );
        let t = timespec(Duration::from_secs(u64::MAX));
        assert_eq!(i64::from(t.tv_sec), i64::from(i32::MAX));
    }
}

pub const POLLIN: libc::c_short = libc::POLLIN;
pub const POLLERR: libc::c_short = libc::POLLERR;

/// A non-blocking, close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds is valid for two ints.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Writes one byte to a pipe, ignoring a full pipe.
pub fn poke(fd: impl AsFd) {
    let b = [1u8];
    // SAFETY: b is valid for reads of one byte and outlives the call.
    // A failed write (the pipe full: a wake-up is already pending) is harmless here.
    let _ = cvt(unsafe { libc::write(fd.as_fd().as_raw_fd(), b.as_ptr().cast(), 1) });
}

/// Signals handled synchronously by a dedicated thread.
pub const SIGINT: libc::c_int = libc::SIGINT;
pub const SIGTERM: libc::c_int = libc::SIGTERM;
pub const SIGQUIT: libc::c_int = libc::SIGQUIT;

fn sigset(signals: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data; all-zero is a valid value (sigemptyset sets it next).
    let mut set: libc::sigset_t = unsafe { zeroed() };
    // SAFETY: set is a valid, writable sigset_t.
    cvt(unsafe { libc::sigemptyset(&mut set) })?;
    for &s in signals {
        // SAFETY: set is initialised; an invalid signal number is reported as EINVAL.
        cvt(unsafe { libc::sigaddset(&mut set, s) })?;
    }
    Ok(set)
}

/// Blocks the signals in the calling thread; threads spawned later inherit the mask.
pub fn block_signals(signals: &[libc::c_int]) -> io::Result<()> {
    let set = sigset(signals)?;
    // SAFETY: set is initialised; a null old-mask pointer asks for no copy.
    cvt_errno(unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) })
}

/// Waits for one of the (blocked) signals and returns it.
pub fn wait_signal(signals: &[libc::c_int]) -> io::Result<libc::c_int> {
    let set = sigset(signals)?;
    let mut sig: libc::c_int = 0;
    // SAFETY: set is initialised and sig is valid for writes.
    cvt_errno(unsafe { libc::sigwait(&set, &mut sig) })?;
    Ok(sig)
}

/// `bytes` and a NUL, as C takes a string; None if `bytes` holds a NUL (as `CString::new`,
/// without its generic conversions).
fn c_string(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.contains(&0) {
        return None;
    }
    let mut c = Vec::with_capacity(bytes.len() + 1);
    c.extend_from_slice(bytes);
    c.push(0);
    Some(c)
}

/// Whether `path` carries a `security.capability` extended attribute (a file capability).
pub fn has_file_caps(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(p) = c_string(path.as_os_str().as_bytes()) else {
        return false;
    };
    let name = b"security.capability\0";
    // SAFETY: both strings are NUL-terminated; a null buffer with size 0 asks for the size only.
    let r = cvt(unsafe {
        libc::getxattr(
            p.as_ptr().cast(),
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            0,
        )
    });
    matches!(r, Ok(n) if n > 0)
}

/// This process id.
pub fn pid() -> u32 {
    std::process::id()
}

/// `if_nametoindex(3)`: the index of a network interface, for IPv6 scopes.
pub fn if_index(name: &str) -> Option<u32> {
    let c = c_string(name.as_bytes())?;
    // SAFETY: c is a valid NUL-terminated string that outlives the call.
    cvt(unsafe { libc::if_nametoindex(c.as_ptr().cast()) }).ok()
}

/// `read(2)` of standard input (fd 0, which pingr never closes) as std's `Stdin` reads it
/// without its lock and buffer: a closed standard input (`EBADF`) reads as empty.
pub fn read_stdin(buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is valid for writes of buf.len() bytes and outlives the call.
    match cvt(unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) }) {
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => Ok(0),
        r => r.map(len_of),
    }
}

/// `getaddrinfo(3)` as std's resolver calls it (no service; `SOCK_STREAM` hints, so one entry
/// per address): the IPv4 and IPv6 addresses of `host` in the resolver's order, port 0. On
/// failure, the text of std's `io::Error` for it: "failed to lookup address information:
/// " and `gai_strerror`'s text, or errno's for `EAI_SYSTEM`.
pub fn lookup_host(host: &str) -> Result<Vec<SocketAddr>, String> {
    let Some(c) = c_string(host.as_bytes()) else {
        return Err("file name contained an unexpected NUL byte".into());
    };
    // SAFETY: addrinfo is plain old data; all-zero is a valid value (AF_UNSPEC, no flags).
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: c is NUL-terminated, a null service is allowed, hints and res are valid for the
    // call; on success res is a list that only freeaddrinfo below frees.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr().cast(), std::ptr::null(), &hints, &mut res) };
    if rc == libc::EAI_SYSTEM {
        return Err(io::Error::last_os_error().to_string());
    }
    if rc != 0 {
        // SAFETY: gai_strerror returns a static NUL-terminated string for any code.
        let text = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) };
        let mut s = String::from("failed to lookup address information: ");
        s.push_str(&text.to_string_lossy());
        return Err(s);
    }
    let mut out = Vec::new();
    let mut cur = res;
    while !cur.is_null() {
        // SAFETY: cur is a node of the list getaddrinfo made, freed only after this loop.
        let ai = unsafe { &*cur };
        // SAFETY: all-zero sockaddr_storage is valid.
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        let len = (ai.ai_addrlen as usize).min(size_of::<libc::sockaddr_storage>());
        if !ai.ai_addr.is_null() {
            // SAFETY: ai_addr points at ai_addrlen bytes of socket address; at most the
            // storage's size is copied into it, and the two never overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    std::ptr::addr_of_mut!(storage).cast::<u8>(),
                    len,
                )
            };
            out.extend(from_raw_addr(&storage, len as libc::socklen_t));
        }
        cur = ai.ai_next;
    }
    if !res.is_null() {
        // SAFETY: res came from a successful getaddrinfo and is freed once.
        unsafe { libc::freeaddrinfo(res) };
    }
    Ok(out)
}

/// Whether standard error is a terminal.
pub fn stderr_is_tty() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal()
}

// ---- Kernel socket filters (issue 14): classic BPF, its lock, and the drop counter. ----

/// `SO_ATTACH_FILTER`: attaches a classic BPF program (the kernel checks it and keeps a copy).
pub fn attach_filter(fd: impl AsFd, prog: &[crate::bpf::Insn]) -> io::Result<()> {
    let mut insns: Vec<libc::sock_filter> = prog
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let len =
        u16::try_from(insns.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fprog = libc::sock_fprog {
        len,
        filter: insns.as_mut_ptr(),
    };
    // SAFETY: fprog points at `len` initialised sock_filter structs in `insns`, which outlives
    // the call; the kernel only reads them (and copies them) during setsockopt.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            std::ptr::addr_of!(fprog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `SO_LOCK_FILTER`: the attached filter can no longer be replaced or removed (not even by
/// this process later, with or without privileges).
pub fn lock_filter(fd: impl AsFd) -> io::Result<()> {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_LOCK_FILTER, 1)
}

/// `SO_RXQ_OVFL`: every read carries the socket's kernel drop count (see `RecvMeta::drops`).
pub fn enable_drop_count(fd: impl AsFd) -> io::Result<()> {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1)
}

// ---- fping personality (issue 11) ----

/// `localtime_r(3)`: the local wall-clock hour, minute and second of `secs` since the epoch
/// (fping's `-Q` reports are stamped `[HH:MM:SS]` in local time).
pub fn local_hms(secs: u64) -> (u32, u32, u32) {
    // The seconds go through a timespec, whose tv_sec is the target's time_t whatever its
    // width (naming libc::time_t is deprecated on musl).
    // SAFETY: timespec and tm are plain data, valid when zeroed.
    let (mut ts, mut tm): (libc::timespec, libc::tm) = unsafe { std::mem::zeroed() };
    ts.tv_sec = secs.try_into().unwrap_or(0);
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant
    // and writes only into tm.
    if cvt(unsafe { libc::localtime_r(&ts.tv_sec, &mut tm) }).is_err() {
        return (
            (secs / 3600 % 24) as u32,
            (secs / 60 % 60) as u32,
            (secs % 60) as u32,
        );
    }
    let u = |v: libc::c_int| u32::try_from(v).unwrap_or(0);
    (u(tm.tm_hour), u(tm.tm_min), u(tm.tm_sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_of_day() {
        // 2026-01-01 01:02:03 UTC: seconds do not depend on the time zone.
        let (h, m, sec) = local_hms(1_767_229_323);
        assert!(h < 24 && m < 60, "{h}:{m}");
        assert_eq!(sec, 3);
    }

    fn bytes_of<T>(v: &T) -> Vec<u8> {
        // SAFETY: v is a live value of size_of::<T>() bytes; the bytes are only copied.
        unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
    }

    #[test]
    fn timestamps_come_from_libc_and_really_arrive() {
        // A UDP socket on loopback (no privilege needed) sends itself one datagram.
        let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).expect("udp socket");
        bind(&fd, &"127.0.0.1:0".parse().unwrap()).expect("bind");
        assert!(
            enable_timestamps(&fd).expect("SO_TIMESTAMPNS"),
            "not kept on"
        );
        let to = local_addr(&fd).expect("getsockname");
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        send_to(&fd, b"stamp me", &to).expect("send");
        let mut buf = [0u8; 64];
        let mut meta = None;
        for _ in 0..1000 {
            match recv_msg(&fd, &mut buf, false) {
                Ok(m) => {
                    meta = Some(m);
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        let meta = meta.expect("the datagram came back");
        assert_eq!(&buf[..meta.len], b"stamp me");
        let k = meta.kernel_ns.expect("an SCM_TIMESTAMPNS control message");
        assert!(k + 1_000_000_000 >= before, "stamp {k} vs {before}");
    }

    #[test]
    fn kernel_drop_counts_really_arrive() {
        // A UDP socket on loopback with the smallest receive buffer overflows on a burst of
        // datagrams to itself; a datagram queued after that carries the count (SO_RXQ_OVFL).
        let fd = socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK, 0).expect("udp");
        bind(&fd, &"127.0.0.1:0".parse().unwrap()).expect("bind");
        setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 1).expect("SO_RCVBUF");
        enable_drop_count(&fd).expect("SO_RXQ_OVFL");
        let to = local_addr(&fd).expect("getsockname");
        let mut buf = [0u8; 2048];
        let payload = [0x5au8; 1000];
        let sent = 200u32;
        for _ in 0..sent {
            let _ = send_to(&fd, &payload, &to);
        }
        let mut queued = 0u32;
        while let Ok(m) = recv_msg(&fd, &mut buf, false) {
            assert_eq!(m.drops, None, "queued before any drop");
            queued += 1;
        }
        assert!(queued > 0 && queued < sent, "{queued} of {sent} queued");
        send_to(&fd, b"after", &to).expect("send");
        let m = recv_msg(&fd, &mut buf, false).expect("the last datagram");
        assert_eq!(&buf[..m.len], b"after");
        assert_eq!(m.drops, Some(sent - queued));
        // Decoding: four bytes or nothing.
        for cut in 0..4 {
            let mut m = RecvMeta::default();
            decode_cmsg(
                libc::SOL_SOCKET,
                libc::SO_RXQ_OVFL,
                &[7, 0, 0, 0][..cut],
                &mut m,
            );
            assert_eq!(m.drops, None);
        }
        let mut m = RecvMeta::default();
        decode_cmsg(
            libc::SOL_SOCKET,
            libc::SO_RXQ_OVFL,
            &9u32.to_ne_bytes(),
            &mut m,
        );
        assert_eq!(m.drops, Some(9));
    }

    #[test]
    fn control_messages_are_decoded_only_when_whole() {
        let ts = libc::timespec {
            tv_sec: 1_767_000_000,
            tv_nsec: 123,
        };
        let tsb = bytes_of(&ts);
        for cut in 0..tsb.len() {
            let mut m = RecvMeta::default();
            decode_cmsg(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &tsb[..cut], &mut m);
            assert_eq!(m.kernel_ns, None, "cut to {cut}");
        }
        let mut m = RecvMeta::default();
        decode_cmsg(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &tsb, &mut m);
        assert_eq!(m.kernel_ns, Some(1_767_000_000_000_000_123));
        // Out-of-range nanoseconds or a negative second count are not believed.
        for (sec, nsec) in [(1, 1_000_000_000), (-1, 0), (1, -1)] {
            let bad = libc::timespec {
                tv_sec: sec,
                tv_nsec: nsec,
            };
            let mut m = RecvMeta::default();
            decode_cmsg(
                libc::SOL_SOCKET,
                libc::SCM_TIMESTAMPNS,
                &bytes_of(&bad),
                &mut m,
            );
            assert_eq!(m.kernel_ns, None, "{sec} {nsec}");
        }
        let mut m = RecvMeta::default();
        decode_cmsg(libc::IPPROTO_IP, libc::IP_TTL, &[64, 0, 0], &mut m);
        assert_eq!(m.ttl, None);
        decode_cmsg(libc::IPPROTO_IP, libc::IP_TTL, &64i32.to_ne_bytes(), &mut m);
        assert_eq!(m.ttl, Some(64));
        decode_cmsg(
            libc::IPPROTO_IPV6,
            libc::IPV6_HOPLIMIT,
            &300i32.to_ne_bytes(),
            &mut m,
        );
        assert_eq!(m.ttl, None, "out of range");
    }

    #[test]
    fn extended_errors_and_their_offender() {
        // SAFETY: sock_extended_err is plain old data; all-zero is valid.
        let mut ee: libc::sock_extended_err = unsafe { zeroed() };
        ee.ee_origin = SO_EE_ORIGIN_ICMP;
        ee.ee_type = 3;
        ee.ee_code = 1;
        ee.ee_info = 1400;
        let mut data = bytes_of(&ee);
        let router = raw_addr(&"10.9.8.7:0".parse().unwrap());
        data.extend_from_slice(&bytes_of(&router.storage)[..router.len as usize]);
        let mut m = RecvMeta::default();
        decode_cmsg(libc::IPPROTO_IP, libc::IP_RECVERR, &data, &mut m);
        let want = ExtError {
            icmp_type: 3,
            code: 1,
            info: 1400,
            offender: Some("10.9.8.7".parse().unwrap()),
        };
        assert_eq!(m.ext_err, Some(want));
        // Every cut: no panic; the offender only when its sockaddr is whole; nothing when
        // the struct itself is cut.
        let ee_len = size_of::<libc::sock_extended_err>();
        for cut in 0..data.len() {
            let mut m = RecvMeta::default();
            decode_cmsg(libc::IPPROTO_IP, libc::IP_RECVERR, &data[..cut], &mut m);
            match m.ext_err {
                None => assert!(cut < ee_len),
                Some(e) => {
                    assert!(cut >= ee_len);
                    assert_eq!(e.offender.is_some(), cut >= data.len(), "cut {cut}");
                }
            }
        }
        // A local error (origin 1) is not an ICMP error.
        ee.ee_origin = 1;
        let mut m = RecvMeta::default();
        decode_cmsg(libc::IPPROTO_IP, libc::IP_RECVERR, &bytes_of(&ee), &mut m);
        assert_eq!(m.ext_err, None);
    }
}
