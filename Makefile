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

BIN := target/release/pingr

.PHONY: all build bin install setcap uninstall test lint-man bench clean

all: build

build:
	$(CARGO) build --release --locked

# Rebuilds (incrementally) when cargo is at hand, so a stale binary is never installed;
# under a sudo without cargo, installs what `make` built before.
bin:
	@if [ '$(BIN)' != 'target/release/pingr' ]; then exit 0; fi; \
	if command -v '$(CARGO)' >/dev/null 2>&1; then \
	  echo '$(CARGO) build --release --locked'; '$(CARGO)' build --release --locked; \
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

test: lint-man
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	$(CARGO) test --locked -- --test-threads=2

lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
	  echo "mandoc -T lint -W warning man/pingr.8"; out=$$(mandoc -T lint -W warning man/pingr.8 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	else echo "SKIP mandoc lint: mandoc not installed"; fi
	@if command -v groff >/dev/null 2>&1; then \
	  echo "groff -man -ww -z man/pingr.8"; out=$$(groff -man -ww -z man/pingr.8 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	else echo "SKIP groff lint: groff not installed"; fi

bench: build
	bash bench/run.sh

clean:
	$(CARGO) clean
