//! Capabilities and user and group ids: the system calls the privilege drop is made of.
//!
//! capget/capset, the ambient and bounding sets, no_new_privs, and the ids. Policy stays in
//! `privilege.rs`.

use super::ffi::{
    cvt, LINUX_CAPABILITY_VERSION_3, PR_CAPBSET_READ, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL,
    PR_GET_NO_NEW_PRIVS, PR_SET_NO_NEW_PRIVS,
};
use std::io;

/// The three capability sets of this thread (64-bit masks; bit N = capability N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `capget(2)` for the calling thread.
pub fn capget() -> io::Result<CapSets> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 takes a header and two data structs, both valid for writes.
    cvt(unsafe { libc::syscall(libc::SYS_capget, &mut hdr, data.as_mut_ptr()) })?;
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// `capset(2)` for the calling thread.
pub fn capset(sets: CapSets) -> io::Result<()> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (el, eh) = split(sets.effective);
    let (pl, ph) = split(sets.permitted);
    let (il, ih) = split(sets.inheritable);
    let data = [
        CapData {
            effective: el,
            permitted: pl,
            inheritable: il,
        },
        CapData {
            effective: eh,
            permitted: ph,
            inheritable: ih,
        },
    ];
    // SAFETY: version 3 takes a header and two data structs, both valid for reads.
    cvt(unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) })?;
    Ok(())
}

/// Clears the ambient capability set.
pub fn clear_ambient() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe {
        libc::prctl(
            PR_CAP_AMBIENT,
            PR_CAP_AMBIENT_CLEAR_ALL,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

/// Sets `PR_SET_NO_NEW_PRIVS`.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe {
        libc::prctl(
            PR_SET_NO_NEW_PRIVS,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

/// Reads `PR_GET_NO_NEW_PRIVS`.
pub fn no_new_privs() -> io::Result<bool> {
    // SAFETY: prctl with integer arguments only.
    let r = cvt(unsafe {
        libc::prctl(
            PR_GET_NO_NEW_PRIVS,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(r == 1)
}

/// Whether capability `cap` is in the bounding set.
pub fn in_bounding_set(cap: u32) -> io::Result<bool> {
    // SAFETY: prctl with integer arguments only.
    let r = cvt(unsafe {
        libc::prctl(
            PR_CAPBSET_READ,
            libc::c_ulong::from(cap),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(r == 1)
}

/// Real, effective and saved user and group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub ruid: u32,
    pub euid: u32,
    pub suid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub sgid: u32,
}

pub fn ids() -> io::Result<Ids> {
    let (mut ruid, mut euid, mut suid, mut rgid, mut egid, mut sgid) = (0, 0, 0, 0, 0, 0);
    // SAFETY: all six pointers are valid for writes.
    cvt(unsafe { libc::getresuid(&mut ruid, &mut euid, &mut suid) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::getresgid(&mut rgid, &mut egid, &mut sgid) })?;
    Ok(Ids {
        ruid,
        euid,
        suid,
        rgid,
        egid,
        sgid,
    })
}

/// Sets all three group ids to `gid`, then all three user ids to `uid`, and clears
/// supplementary groups when still allowed.
pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: a zero-length list: the null pointer is never read.
    // Failure (no CAP_SETGID) is acceptable: the ids below are what matters.
    let _ = cvt(unsafe { libc::setgroups(0, std::ptr::null()) });
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
    Ok(())
}
