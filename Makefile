# pingr — build, test, install. `make` is the one entry point.
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
# pingr called as fping/fping6 speaks fping (issue 11): symlinks here, never in BINDIR, so a
# system fping is never replaced; point Smokeping, vaping, ... at them (pingr(8), FPING MODE).
LIBEXECDIR ?= $(PREFIX)/libexec
CARGO    ?= cargo
# The file capability applied to the installed binary (never to the build tree).
# cap_net_raw+p is the alternative: see PRIVILEGES in man/pingr.8. SETCAP= skips it.
FILECAPS ?= cap_net_raw+ep
SETCAP   ?= setcap

# --- what to build (issue 13: static, cross, tiny) ----------------------------------
# TARGET=<rust triple> cross-builds (rustup target add <triple>); the linker is found from
# the triple by Debian's cross gcc naming (aarch64-unknown-linux-musl -> aarch64-linux-gnu-gcc,
# armv7-unknown-linux-gnueabihf -> arm-linux-gnueabihf-gcc) or given as LINKER=.
# A musl TARGET is linked fully static and non-PIE. PROFILE=release (default), dev, cross
# (Cargo.toml: what tests/cross.sh runs under qemu) or tiny (nightly, see `make tiny`).
# `make install` installs whatever TARGET/PROFILE select, into DESTDIR like any other build.
TARGET   ?=
LINKER   ?=
PROFILE  ?= release
# DT_RELR packs the PIE's relocations (~14 KiB smaller, no speed cost); used for host builds
# only where the C compiler, linker and C library are found to support it (RELR=no: never).
RELR     ?= auto
CC       ?= cc
# Linked by lld with identical functions folded (--icf=all: Rust does not promise distinct
# addresses to distinct functions; lld never folds data): 3 KiB off the host build, 12 KiB off the
# static one (whose C driver would otherwise use GNU ld). Used for native builds (host or
# host-arch musl; not PROFILE=dev) where a test link with the toolchain's own lld
# works; LLD=no: never.
LLD      ?= auto
# `make static`: a fully static, non-PIE musl binary for this machine's architecture.
STATIC_TARGET ?= $(subst armv7l-unknown-linux-musl,armv7-unknown-linux-musleabihf,$(shell uname -m)-unknown-linux-musl)
# `make tiny`: nightly, standard library rebuilt with immediate abort on panic, opt-level z,
# and no unwind tables (nothing unwinds or walks the stack when a panic aborts at once:
# .eh_frame was 44 KiB of a 274 KiB binary). The stable builds cannot drop them: the
# prebuilt standard library asks for them and LTO keeps them for every function.
NIGHTLY  ?= nightly
TINY_RUSTFLAGS ?= -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Cforce-unwind-tables=no
HOST_TRIPLE = $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
# tests/cross.sh runs the unit tests of a TARGET through the same recipe:
# `make build TARGET=... PROFILE=cross CARGO_VERB=test CARGO_ARGS=--bins`.
CARGO_VERB ?= build
CARGO_ARGS ?=
SYSCTLDIR ?= /etc/sysctl.d
SYSCTL_CONF := 60-pingr-ping-group.conf

TARGET_DIR  := $(or $(CARGO_TARGET_DIR),target)
PROFILE_DIR := $(if $(filter dev test,$(PROFILE)),debug,$(PROFILE))
BUILD_TRIPLE = $(if $(filter tiny,$(PROFILE)),$(or $(TARGET),$(HOST_TRIPLE)),$(TARGET))
BUILT = $(TARGET_DIR)/$(if $(BUILD_TRIPLE),$(BUILD_TRIPLE)/)$(PROFILE_DIR)/pingr
BIN  ?= $(BUILT)

.PHONY: all build bin install setcap uninstall test test-cross lint-man bench clean static tiny \
	install-sysctl uninstall-sysctl

all: build

# One cargo invocation for every TARGET/PROFILE: finds the cross linker, checks that the
# target's standard library is installed, adds crt-static (+ non-PIE) for musl, and DT_RELR
# for host builds where it works. Prints the binary's path and size.
define cargo_build
set -e; t='$(BUILD_TRIPLE)'; profile='$(PROFILE)'; linker='$(LINKER)'; rf=''; \
if [ "$$profile" = tiny ]; then \
  cmd="$(CARGO) +$(NIGHTLY) $(CARGO_VERB) --locked --profile tiny -Z build-std=std,panic_abort --target $$t"; \
  rf='$(TINY_RUSTFLAGS)'; \
  if ! rustup run '$(NIGHTLY)' rustc -V >/dev/null 2>&1; then \
    echo "make tiny: needs a nightly toolchain with rust-src: rustup toolchain install $(NIGHTLY) --component rust-src" >&2; exit 1; fi; \
  case $$t in *-musl*) lib=$$(rustup run '$(NIGHTLY)' rustc --print target-libdir --target "$$t"); \
    [ -d "$$lib/self-contained" ] || { \
      echo "make tiny: musl's start files come with the target: rustup target add --toolchain $(NIGHTLY) $$t" >&2; exit 1; };; esac; \
else \
  cmd="$(CARGO) $(CARGO_VERB) --locked --profile $$profile$${t:+ --target $$t}"; \
fi; \
if [ -n "$$t" ]; then \
  if [ "$$profile" != tiny ] && lib=$$(rustc --print target-libdir --target "$$t" 2>/dev/null) && [ ! -d "$$lib" ]; then \
    echo "make: the Rust standard library for $$t is not installed: rustup target add $$t" >&2; exit 1; fi; \
  arch=$${t%%-*}; abi=$${t##*-linux-}; host=$$(uname -m); \
  case $$arch in i?86) arch=i686;; arm*|thumb*) arch=arm;; riscv64*) arch=riscv64;; esac; \
  case $$host in i?86) host=i686;; arm*) host=arm;; esac; \
  if [ -z "$$linker" ] && [ "$$arch" != "$$host" ]; then \
    linker=$$arch-linux-$$(echo "$$abi" | sed 's/^musl/gnu/')-gcc; \
    command -v "$$linker" >/dev/null 2>&1 || { \
      echo "make: no linker for $$t: $$linker not found (Debian: apt-get install gcc-$${linker%-gcc}), or give LINKER=" >&2; exit 1; }; \
  fi; \
  if [ -n "$$linker" ]; then \
    v=CARGO_TARGET_$$(echo "$$t" | tr 'a-z.-' 'A-Z__')_LINKER; export "$$v=$$linker"; echo "$$v=$$linker"; fi; \
  case $$t in *-musl*) rf="$$rf -Ctarget-feature=+crt-static -Crelocation-model=static";; esac; \
elif [ '$(RELR)' = auto ] && [ "$$profile" != dev ]; then \
  d=$$(mktemp -d); printf 'int main(void) { return 0; }\n' >"$$d/t.c"; \
  if '$(CC)' -Wl,-z,pack-relative-relocs -o "$$d/t" "$$d/t.c" >/dev/null 2>&1 && "$$d/t"; then \
    rf='-Clink-arg=-Wl,-z,pack-relative-relocs'; fi; rm -rf "$$d"; \
fi; \
if [ '$(LLD)' = auto ] && [ -z "$$linker" ] && [ "$$profile" != dev ] && \
   { [ -z "$$t" ] || [ "$${t%%-*}" = "$$(uname -m)" ]; }; then \
  if [ "$$profile" = tiny ]; then rc="rustup run $(NIGHTLY) rustc"; \
  elif tc=$$(echo '$(CARGO)' | sed -n 's/.*+\([^ ]*\).*/\1/p'); [ -n "$$tc" ]; then rc="rustup run $$tc rustc"; \
  else rc=rustc; fi; \
  d=$$(mktemp -d); echo 'fn main() {}' >"$$d/m.rs"; \
  gccld=$$($$rc --print sysroot 2>/dev/null)/lib/rustlib/$$($$rc -vV 2>/dev/null | sed -n 's/^host: //p')/bin/gcc-ld; \
  for l in '-Clink-arg=-Wl,--icf=all' "-Clink-arg=-B$$gccld -Clink-arg=-fuse-ld=lld -Clink-arg=-Wl,--icf=all"; do \
    if $$rc $${t:+--target $$t} $${rf#'$(TINY_RUSTFLAGS)'} $$l -o "$$d/m" "$$d/m.rs" >/dev/null 2>&1 && "$$d/m"; then rf="$$rf $$l"; break; fi; \
  done; rm -rf "$$d"; \
fi; \
rf=$$(echo "$${RUSTFLAGS:-} $$rf" | sed 's/^ *//'); \
echo "RUSTFLAGS='$$rf' $$cmd $(CARGO_ARGS)"; RUSTFLAGS="$$rf" $$cmd $(CARGO_ARGS); \
if [ '$(CARGO_VERB)' = build ]; then echo "built $(BUILT): $$(stat -c %s '$(BUILT)') bytes"; fi
endef

build:
	@$(cargo_build)

# `make static`: fully static musl binary (target/<arch>-unknown-linux-musl/release/pingr).
static:
	@$(MAKE) --no-print-directory build TARGET='$(STATIC_TARGET)'

# `make tiny`: the smallest build (nightly): target/<host triple>/tiny/pingr, stripped.
tiny:
	@$(MAKE) --no-print-directory build PROFILE=tiny

# Rebuilds (incrementally) when cargo is at hand, so a stale binary is never installed;
# under a sudo without cargo, installs what `make` built before. BIN= installs that file.
bin:
	@if [ '$(BIN)' != '$(BUILT)' ]; then exit 0; fi; \
	if command -v '$(CARGO)' >/dev/null 2>&1; then \
	  $(cargo_build); \
	elif [ -x '$(BIN)' ]; then echo "note: $(CARGO) not found; installing the $(BIN) built before"; \
	else echo "$(CARGO) not found and $(BIN) not built: run 'make' as yourself first" >&2; exit 1; fi

install: bin
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/pingr
	install -m 0644 man/pingr.8 $(DESTDIR)$(MANDIR)/man8/pingr.8
	install -d $(DESTDIR)$(LIBEXECDIR)/pingr
	ln -sfn $(BINDIR)/pingr $(DESTDIR)$(LIBEXECDIR)/pingr/fping
	ln -sfn $(BINDIR)/pingr $(DESTDIR)$(LIBEXECDIR)/pingr/fping6
	@$(MAKE) --no-print-directory setcap

# Applies the capability to the installed binary only, then checks it with getcap.
# Warns, without failing, where setcap is missing or the file system drops capabilities.
setcap:
	@target='$(DESTDIR)$(BINDIR)/pingr'; \
	if [ -z '$(SETCAP)' ]; then echo "SETCAP is empty: no file capability applied to $$target"; exit 0; fi; \
	if ! command -v '$(SETCAP)' >/dev/null 2>&1; then \
	  echo "warning: $(SETCAP) not found (Debian: apt-get install libcap2-bin); $$target has no capability: run it as root, or allow net.ipv4.ping_group_range" >&2; exit 0; fi; \
	echo "$(SETCAP) $(FILECAPS) $$target"; \
	if ! '$(SETCAP)' '$(FILECAPS)' "$$target"; then \
	  echo "warning: could not apply $(FILECAPS) to $$target (not root, or the file system does not keep file capabilities)" >&2; exit 0; fi; \
	if command -v getcap >/dev/null 2>&1; then \
	  got=$$(getcap "$$target"); echo "$$got"; \
	  [ -n "$$got" ] || echo "warning: getcap shows no capability on $$target: the file system does not keep file capabilities" >&2; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pingr $(DESTDIR)$(MANDIR)/man8/pingr.8
	rm -f $(DESTDIR)$(LIBEXECDIR)/pingr/fping $(DESTDIR)$(LIBEXECDIR)/pingr/fping6
	-rmdir $(DESTDIR)$(LIBEXECDIR)/pingr 2>/dev/null

# Where file capabilities do not survive (squashfs, initramfs, tar, NFS): admit every group
# to ICMP datagram sockets at boot (systemd-sysctl or procps reads SYSCTLDIR). Installs only;
# prints the command that applies it now.
install-sysctl:
	install -d $(DESTDIR)$(SYSCTLDIR)
	install -m 0644 contrib/sysctl.d/$(SYSCTL_CONF) $(DESTDIR)$(SYSCTLDIR)/$(SYSCTL_CONF)
	@echo "installed $(DESTDIR)$(SYSCTLDIR)/$(SYSCTL_CONF); to apply it now: sysctl -p $(SYSCTLDIR)/$(SYSCTL_CONF)"

uninstall-sysctl:
	rm -f $(DESTDIR)$(SYSCTLDIR)/$(SYSCTL_CONF)

# tests/cross.sh (the 1.75 build, musl/32-bit clippy, qemu runs, static chroot) runs in the
# background while `cargo test` runs: it builds in target/cross-* of its own.
test: lint-man
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	@mkdir -p '$(TARGET_DIR)'; log='$(TARGET_DIR)/test-cross.log'; \
	echo "bash tests/cross.sh > $$log (in the background)"; \
	CARGO='$(CARGO)' bash tests/cross.sh >"$$log" 2>&1 & xpid=$$!; \
	echo '$(CARGO) test --locked -- --test-threads=2'; \
	$(CARGO) test --locked -- --test-threads=2; rc=$$?; \
	wait $$xpid; xrc=$$?; echo "--- tests/cross.sh (exit $$xrc)"; cat "$$log"; \
	[ $$rc = 0 ] && [ $$xrc = 0 ]

test-cross:
	CARGO='$(CARGO)' bash tests/cross.sh

lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
	  echo "mandoc -T lint -W warning man/pingr.8"; out=$$(mandoc -T lint -W warning man/pingr.8 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	else echo "SKIP mandoc lint: mandoc not installed"; fi
	@if command -v groff >/dev/null 2>&1; then \
	  echo "groff -man -ww -z man/pingr.8"; out=$$(groff -man -ww -z man/pingr.8 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	else echo "SKIP groff lint: groff not installed"; fi

# S6 reports the size of every build beside fping, ping and BusyBox: static and tiny are
# built first when their toolchains are installed (a missing one is reported, not fatal).
bench: build
	-@$(MAKE) --no-print-directory static
	-@$(MAKE) --no-print-directory tiny
	-@$(MAKE) --no-print-directory tiny TARGET='$(STATIC_TARGET)'
	bash bench/run.sh

clean:
	$(CARGO) clean
