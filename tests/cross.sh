#!/usr/bin/env bash
# tests/cross.sh: pingr beyond this machine (issue 13), run by `make test` (in the
# background, beside `cargo test`) and by `make test-cross`.
#
#   msrv         the declared rust-version (1.75): every target builds, unit tests pass
#   clippy-*     clippy -D warnings for x86_64-unknown-linux-musl and i686-unknown-linux-gnu
#   s390x, i686  unit tests under qemu-user (big-endian 64-bit; 32-bit little-endian)
#   s390x, i686, aarch64-musl
#                `make install TARGET=<triple>` into a DESTDIR (the cross-built binary, for
#                the right machine), then that binary pings 127.0.0.1 and ::1 under qemu-user
#                inside a network namespace of its own: raw socket as root, ICMP datagram
#                socket as uid 4242 (setpriv; the namespace's ping_group_range admits it)
#   static       `make static`'s recipe: no interpreter, no shared library; runs in a chroot
#                holding only BusyBox, pingr and /etc/hosts, by name (localhost) too
#
# Each step prints PASS, FAIL or SKIP with the reason (a target, toolchain, linker or qemu
# that is not installed: `.ci/run` installs them). Steps that need root fail instead of
# skipping under PINGR_REQUIRE_ROOT=1. The cross builds use Cargo.toml's `cross` profile
# (opt-level 1 so the fuzz tests take seconds, not minutes, under qemu; overflow checks
# and debug assertions on, so a 32-bit overflow panics), each in target/cross-<name> of
# its own, so the independent steps run in parallel. Probes go only to 127.0.0.1 and ::1 inside namespaces
# this script creates and deletes.
set -u -o pipefail
export LC_ALL=C
unset MAKEFLAGS MFLAGS MAKELEVEL

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
CARGO=${CARGO:-cargo}
TD=${CARGO_TARGET_DIR:-$ROOT/target}
MSRV=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)
REQUIRE_ROOT=${PINGR_REQUIRE_ROOT:-0}
USER_ID=4242
COUNT=3

WORK=$(mktemp -d /tmp/pingr-cross.XXXXXX) || exit 1
chmod 755 "$WORK" # uid 4242 runs binaries installed under it
NAMESPACES=()
cleanup() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk -v p="pingr-cross-$$-" 'index($1, p) == 1 { print $1 }'); do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Results: one line per step in $WORK/<job>.res; logs in $WORK/<job>.log.
say() { # say JOB PASS|FAIL|SKIP STEP TEXT
	printf '%s %s: %s\n' "$2" "$3" "$4" >>"$WORK/$1.res"
	printf '%s %s: %s\n' "$2" "$3" "$4"
}
is_root() { [[ $(id -u) == 0 ]]; }
root_or_skip() { # root_or_skip JOB STEP: true when root; else SKIP (FAIL when required)
	is_root && return 0
	if [[ $REQUIRE_ROOT == 1 ]]; then say "$1" FAIL "$2" "needs root (PINGR_REQUIRE_ROOT=1)"; else say "$1" SKIP "$2" "needs root (network namespaces, setpriv)"; fi
	return 1
}
have_target() { # the Rust standard library for a triple is installed
	local lib
	lib=$(rustc --print target-libdir --target "$1" 2>/dev/null) && [[ -d $lib ]]
}
env_name() { echo "$1" | tr 'a-z.-' 'A-Z__'; }

# ELF identity of a file: "64-bit big-endian machine 22".
elf_id() {
	local h
	h=$(od -An -tx1 -N20 "$1" | tr -d ' \n')
	[[ ${h:0:8} == 7f454c46 ]] || { echo "not ELF"; return; }
	local class=${h:8:2} data=${h:10:2} m
	if [[ $data == 01 ]]; then m=$((16#${h:38:2}${h:36:2})); else m=$((16#${h:36:2}${h:38:2})); fi
	printf '%s-bit %s machine %d\n' "$([[ $class == 01 ]] && echo 32 || echo 64)" \
		"$([[ $data == 01 ]] && echo little-endian || echo big-endian)" "$m"
}

# Unit tests that need socket options qemu-user does not emulate (qemu 7.2, Debian 12:
# setsockopt(SOL_SOCKET, SO_TIMESTAMPNS / SO_RXQ_OVFL) fails with ENOPROTOOPT, "Unsupported
# setsockopt level=1 optname=35/40" under -d unimp). They run natively in `cargo test`; under
# qemu each is skipped by name, with a SKIP line. Any other failure under qemu fails.
QEMU_SKIP=(
	"sys::tests::timestamps_come_from_libc_and_really_arrive|setsockopt SO_TIMESTAMPNS"
	"sys::tests::kernel_drop_counts_really_arrive|setsockopt SO_RXQ_OVFL"
)

# ---------------------------------------------------------------- steps ---

job_msrv() {
	local j=msrv out
	if ! rustup run "$MSRV" rustc -V >/dev/null 2>&1; then
		say $j SKIP "msrv $MSRV" "toolchain $MSRV not installed (rustup toolchain install $MSRV --profile minimal)"
		return
	fi
	export CARGO_TARGET_DIR=$TD/msrv
	if ! cargo "+$MSRV" test --locked --all-targets --no-run >"$WORK/msrv.build" 2>&1; then
		say $j FAIL "msrv $MSRV build" "cargo +$MSRV test --all-targets --no-run: $(grep -m3 -E '^error' "$WORK/msrv.build" | tr '\n' ' ')"
		cat "$WORK/msrv.build"
		return
	fi
	say $j PASS "msrv $MSRV build" "cargo +$MSRV builds every target (bin, tests, examples)"
	if out=$(cargo "+$MSRV" test --locked --bins 2>&1); then
		say $j PASS "msrv $MSRV unit tests" "$(grep -m1 '^test result' <<<"$out")"
	else
		say $j FAIL "msrv $MSRV unit tests" "$(grep -E '^test result|FAILED|panicked' <<<"$out" | head -n 5 | tr '\n' ' ')"
	fi
}

job_clippy() {
	local j=clippy t out
	export CARGO_TARGET_DIR=$TD/cross-clippy
	# A TARGET whose standard library is not installed: one line naming the fix, no build.
	t=powerpc64le-unknown-linux-gnu
	if have_target "$t"; then
		say $j SKIP "make TARGET=$t without its Rust target" "$t is installed here"
	elif out=$(make -C "$ROOT" --no-print-directory TARGET=$t 2>&1); then
		say $j FAIL "make TARGET=$t without its Rust target" "make succeeded: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	elif grep -q "rustup target add $t" <<<"$out" && ! grep -q Compiling <<<"$out"; then
		say $j PASS "make TARGET=$t without its Rust target" "$(grep -m1 'rustup target add' <<<"$out")"
	else
		say $j FAIL "make TARGET=$t without its Rust target" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
	for t in x86_64-unknown-linux-musl i686-unknown-linux-gnu; do
		if ! have_target "$t"; then
			say $j SKIP "clippy $t" "Rust target not installed (rustup target add $t)"
			continue
		fi
		if out=$("$CARGO" clippy --locked --all-targets --target "$t" -- -D warnings 2>&1); then
			say $j PASS "clippy $t" "cargo clippy --all-targets --target $t -- -D warnings"
		else
			say $j FAIL "clippy $t" "$(grep -E -A3 '^(error|warning)' <<<"$out" | head -n 12 | tr '\n' ' ')"
		fi
	done
}

# ping_run JOB LABEL EXPECT-KIND CMD...: one run of COUNT probes; checks the exit status,
# the counts, one reply line per probe and the socket kind, then prints the output.
ping_run() {
	local j=$1 label=$2 kind=$3 rc
	shift 3
	timeout 60 "$@" >"$WORK/$j.out" 2>"$WORK/$j.err"
	rc=$?
	local replies
	replies=$(grep -c ' bytes from .*: icmp_seq=' "$WORK/$j.out")
	local want="$COUNT packets transmitted, $COUNT received, 0% packet loss"
	{
		echo "\$ ${*}"
		cat "$WORK/$j.out"
		sed 's/^/stderr: /' "$WORK/$j.err"
		echo "(exit $rc)"
	}
	if [[ $rc == 0 ]] && grep -q "^$want" "$WORK/$j.out" && [[ $replies == "$COUNT" ]] &&
		! grep -q 'DUP!' "$WORK/$j.out" && grep -q "$kind" "$WORK/$j.err"; then
		say "$j" PASS "$label" "exit 0, '$want', $replies reply lines, $kind"
	else
		say "$j" FAIL "$label" "exit $rc, $replies reply lines (want $COUNT), want '$want' and '$kind'"
	fi
}

# job_cross NAME TRIPLE QEMU SYSROOT UNIT(yes|no) ELF-ID
job_cross() {
	local j=$1 t=$2 qemu=$3 sysroot=$4 unit=$5 out
	local missing=""
	have_target "$t" || missing+="Rust target $t (rustup target add $t); "
	command -v "$qemu" >/dev/null 2>&1 || missing+="$qemu (apt-get install qemu-user); "
	[[ -z $sysroot || -d $sysroot/lib ]] || missing+="$sysroot (apt-get install libc6-dev-${sysroot##*/}-cross)"
	if [[ -n $missing ]]; then
		say "$j" SKIP "$t" "missing: ${missing%; }"
		return
	fi
	export CARGO_TARGET_DIR=$TD/cross-$j
	local runner=$qemu
	[[ -n $sysroot ]] && runner+=" -L $sysroot"
	export "CARGO_TARGET_$(env_name "$t")_RUNNER=$runner"
	local mk=(make -C "$ROOT" --no-print-directory TARGET="$t" PROFILE=cross)
	local wrapper=""
	if [[ $j == aarch64 ]]; then
		# LINKER= is honoured: a wrapper of the cross gcc that leaves a mark, then links.
		wrapper=$WORK/$j-linker
		printf '#!/bin/sh\ntouch "%s.used"\nexec aarch64-linux-gnu-gcc "$@"\n' "$wrapper" >"$wrapper"
		chmod 755 "$wrapper"
		mk+=(LINKER="$wrapper")
	fi

	if [[ $unit == yes ]]; then
		local skip=() e qv
		qv=$("$qemu" --version | head -n 1 | awk '{ print $3 }')
		for e in "${QEMU_SKIP[@]}"; do
			skip+=(--skip "${e%%|*}")
			say "$j" SKIP "$t unit test ${e%%|*}" "qemu-user $qv does not emulate ${e#*|} (runs natively in cargo test)"
		done
		if out=$("${mk[@]}" build CARGO_VERB=test CARGO_ARGS="--bins -- --exact ${skip[*]}" 2>&1); then
			say "$j" PASS "$t unit tests under $qemu" "$(grep -m1 '^test result' <<<"$out")"
		else
			say "$j" FAIL "$t unit tests under $qemu" "$(grep -E '^test result|FAILED|panicked|^error|^make' <<<"$out" | head -n 6 | tr '\n' ' ')"
			echo "$out" | tail -n 40
		fi
	fi

	local dest=$WORK/dest-$j
	# Installed like any other build: the file capability included, where setcap works.
	if ! out=$("${mk[@]}" install DESTDIR="$dest" 2>&1); then
		say "$j" FAIL "$t make install" "$(tail -n 5 <<<"$out" | tr '\n' ' ')"
		return
	fi
	if [[ -n $wrapper ]]; then
		if [[ -e $wrapper.used ]]; then
			say "$j" PASS "$t LINKER=" "the build linked with the LINKER= given"
		else
			say "$j" FAIL "$t LINKER=" "the LINKER= given was never run"
		fi
	fi
	local bin=$dest/usr/local/bin/pingr built=$CARGO_TARGET_DIR/$t/cross/pingr
	local id
	id=$(elf_id "$bin")
	local caps="no setcap"
	if is_root && command -v setcap >/dev/null 2>&1 && command -v getcap >/dev/null 2>&1; then
		caps=$(getcap "$bin" | awk '{ print $NF }')
		if [[ $caps != cap_net_raw=ep ]]; then
			say "$j" FAIL "$t make install" "getcap on the installed binary: '${caps}' (want cap_net_raw=ep)"
			return
		fi
	fi
	if cmp -s "$bin" "$built" && [[ $id == "$6" ]]; then
		say "$j" PASS "$t make install" "DESTDIR holds the cross-built binary ($id), $caps"
	else
		say "$j" FAIL "$t make install" "installed file: $id (want $6), same as $built: $(cmp -s "$bin" "$built" && echo yes || echo no)"
		return
	fi
	chmod -R a+rX "$dest"

	root_or_skip "$j" "$t pings under $qemu" || return
	local ns=pingr-cross-$$-$j
	ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || {
		say "$j" FAIL "$t pings" "could not create network namespace $ns"
		return
	}
	local q=("$qemu")
	[[ -n $sysroot ]] && q+=(-L "$sysroot")
	local a
	for a in 127.0.0.1 ::1; do
		ping_run "$j" "$t $a raw as root" "raw ICMP socket" \
			ip netns exec "$ns" "${q[@]}" "$bin" -v -c "$COUNT" -i 0.2 "$a"
	done
	if command -v setpriv >/dev/null 2>&1; then
		ip netns exec "$ns" sysctl -q -w net.ipv4.ping_group_range="$USER_ID $USER_ID"
		for a in 127.0.0.1 ::1; do
			ping_run "$j" "$t $a datagram as uid $USER_ID" "ICMP datagram socket" \
				ip netns exec "$ns" setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups \
				--inh-caps=-all --ambient-caps=-all --bounding-set=-all -- \
				"${q[@]}" "$bin" -v -c "$COUNT" -i 0.2 "$a"
		done
	else
		say "$j" SKIP "$t datagram as a user" "setpriv not installed (apt-get install util-linux)"
	fi
	ip netns del "$ns"
}

job_static() {
	local j=static t out
	t=$(make -s --no-print-directory -f - <<<'include Makefile
print: ; @echo $(STATIC_TARGET)' print 2>/dev/null)
	if ! have_target "$t"; then
		say $j SKIP "static $t" "Rust target not installed (rustup target add $t)"
		return
	fi
	export CARGO_TARGET_DIR=$TD/cross-static
	# `make static`'s recipe and flags, with the lighter `cross` profile.
	if ! out=$(make -C "$ROOT" --no-print-directory static PROFILE=cross 2>&1); then
		say $j FAIL "make static" "$(tail -n 5 <<<"$out" | tr '\n' ' ')"
		return
	fi
	local bin=$CARGO_TARGET_DIR/$t/cross/pingr interp needed
	interp=$(readelf -lW "$bin" 2>/dev/null | grep -c 'Requesting program interpreter')
	needed=$(readelf -dW "$bin" 2>/dev/null | grep -c '(NEEDED)')
	if [[ $interp == 0 && $needed == 0 ]] && readelf -h "$bin" >/dev/null 2>&1; then
		say $j PASS "make static" "$t: no program interpreter, no NEEDED library ($(readelf -hW "$bin" | sed -n 's/^ *Type: *//p'))"
	else
		say $j FAIL "make static" "$t: $interp interpreter, $needed NEEDED entries (or readelf missing)"
		return
	fi
	local bb
	bb=$(command -v busybox)
	if [[ -z $bb ]] || readelf -lW "$bb" | grep -q 'program interpreter'; then
		say $j SKIP "static chroot" "no static busybox (apt-get install busybox-static)"
		return
	fi
	root_or_skip $j "static chroot" || return
	local r=$WORK/chroot
	mkdir -p "$r/bin" "$r/etc"
	cp "$bb" "$r/bin/busybox"
	cp "$bin" "$r/bin/pingr"
	ln -s busybox "$r/bin/sh"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$r/etc/hosts"
	chmod -R a+rX "$r"
	echo "chroot $r holds: $(cd "$r" && find . -type f -o -type l | sort | tr '\n' ' ')"
	local ns=pingr-cross-$$-static
	ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || {
		say $j FAIL "static chroot" "could not create network namespace $ns"
		return
	}
	local a
	for a in localhost 127.0.0.1 ::1; do
		ping_run $j "static in a BusyBox chroot: $a raw as root" "raw ICMP socket" \
			ip netns exec "$ns" chroot "$r" /bin/sh -c 'exec /bin/pingr "$@"' sh -v -c "$COUNT" -i 0.2 "$a"
	done
	ip netns exec "$ns" sysctl -q -w net.ipv4.ping_group_range="$USER_ID $USER_ID"
	ping_run $j "static in a BusyBox chroot: localhost datagram as uid $USER_ID" "ICMP datagram socket" \
		ip netns exec "$ns" chroot --userspec=$USER_ID:$USER_ID "$r" /bin/pingr -v -c "$COUNT" -i 0.2 localhost
	ip netns del "$ns"
}

# ------------------------------------------------------------------ main ---

started=$EPOCHREALTIME
JOBS=(msrv clippy s390x i686 aarch64 static)
job_msrv >"$WORK/msrv.log" 2>&1 &
job_clippy >"$WORK/clippy.log" 2>&1 &
job_cross s390x s390x-unknown-linux-gnu qemu-s390x /usr/s390x-linux-gnu yes "64-bit big-endian machine 22" >"$WORK/s390x.log" 2>&1 &
job_cross i686 i686-unknown-linux-gnu qemu-i386 /usr/i686-linux-gnu yes "32-bit little-endian machine 3" >"$WORK/i686.log" 2>&1 &
job_cross aarch64 aarch64-unknown-linux-musl qemu-aarch64 "" no "64-bit little-endian machine 183" >"$WORK/aarch64.log" 2>&1 &
job_static >"$WORK/static.log" 2>&1 &
wait

fail=0
for j in "${JOBS[@]}"; do
	echo "=== $j"
	[[ -s $WORK/$j.log ]] && cat "$WORK/$j.log"
done
echo "=== summary"
for j in "${JOBS[@]}"; do
	if [[ -s $WORK/$j.res ]]; then cat "$WORK/$j.res"; else echo "FAIL $j: no result (the step died)"; fail=1; fi
	grep -q '^FAIL' "$WORK/$j.res" 2>/dev/null && fail=1
done
secs=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
echo "tests/cross.sh: $( ((fail)) && echo FAILED || echo ok) in $secs s"
exit $fail
