#!/usr/bin/env bash
# bench/run.sh: pingr against fping and iputils ping, on loopback only.
#
# Every probe goes to a 127.0.0.0/8 address inside a network namespace this
# script creates (it holds nothing but `lo`), and the namespace is deleted on
# exit. Installs nothing. Needs root (to create the namespace).
#
# Environment:
#   ROUNDS   rounds per scenario, tools alternating A B A B ... (default 5)
#   REPS     one-shot runs timed together per round in S6 (default 50)
#   RESULTS  where to write the Markdown report (default bench/results.md)
#   KEEP=1   keep the scratch directory (raw per-run data) and print its path
#
# Usage: make bench      (or: bash bench/run.sh, after `make build`)

set -u -o pipefail
export LC_ALL=C

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(dirname "$(dirname "$SELF")")
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-50}
RESULTS=${RESULTS:-$ROOT/bench/results.md}
PINGR_BUILT=$ROOT/target/release/pingr
FLOOR_MS=4096 # S1: 4,096 probes 1 ms apart

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers ---

# Microsecond EPOCHREALTIME stamps -> elapsed milliseconds, 3 decimals.
elapsed_ms() {
	local a=${1/./} b=${2/./}
	local d=$((10#$b - 10#$a))
	printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

# Numbers on stdin -> "median mean count" (NA NA 0 when there are none).
stats() {
	sort -g | awk '{ v[NR] = $1; s += $1 }
		END {
			if (NR == 0) { print "NA NA 0"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.4f %.4f %d\n", m, s / NR, NR
		}'
}

# ------------------------------------------------- inside the namespace ---

# timed PREFIX CMD...: runs CMD with stdout/stderr in PREFIX.out/.err.
# Sets WALL (ms, from EPOCHREALTIME), CPU (user+sys ms, bash `time`, which
# includes GNU time's own ~1 ms), RSS (peak KiB, GNU time %M) and RC.
timed() {
	local pre=$1 t0 t1 u s
	shift
	local TIMEFORMAT='%3U %3S'
	t0=$EPOCHREALTIME
	{ time /usr/bin/time -o "$pre.time" -f '%e %U %S %M' "$@" >"$pre.out" 2>"$pre.err"; } 2>"$pre.cpu"
	RC=$?
	t1=$EPOCHREALTIME
	WALL=$(elapsed_ms "$t0" "$t1")
	read -r u s <"$pre.cpu"
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", (u + s) * 1000 }')
	RSS=$(tail -n 1 "$pre.time" | awk '{ print $4 }')
	[[ $RSS =~ ^[0-9]+$ ]] || RSS=NA
}

# rec SCENARIO TOOL METRIC VALUE
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$DATA"; }

rec_std() { # rec_std SCENARIO TOOL: the figures `timed` just set
	rec "$1" "$2" wall "$WALL"
	rec "$1" "$2" cpu "$CPU"
	rec "$1" "$2" rss "$RSS"
	rec "$1" "$2" rc "$RC"
}

# measure SCENARIO TOOL COUNT STREAM CMD...: `timed` CMD (output in the caller's $o.out and
# $o.err), its figures recorded, and its replies as COUNT counts them in $o.STREAM.
measure() {
	local s=$1 t=$2 count=$3 stream=$4
	shift 4
	timed "$o" "$@"
	rec_std "$s" "$t"
	rec "$s" "$t" replies "$("$count" "$o.$stream")"
}

# measure_rtts SCENARIO TOOL EXTRACT CMD...: `timed` CMD and its figures recorded, with the
# median and mean of the RTTs EXTRACT finds in $o.out and how many there were (its replies).
measure_rtts() {
	local s=$1 t=$2 extract=$3 med mean n
	shift 3
	timed "$o" "$@"
	rec_std "$s" "$t"
	read -r med mean n < <("$extract" "$o.out" | stats)
	rec "$s" "$t" rtt_med "$med"
	rec "$s" "$t" rtt_mean "$mean"
	rec "$s" "$t" replies "$n"
}

# rec_p95 EXTRACT FILE SCENARIO:TOOL...: median and p95 of the RTTs EXTRACT finds in FILE,
# recorded for each SCENARIO:TOOL.
rec_p95() {
	local extract=$1 file=$2 med p95 n st
	shift 2
	read -r med p95 n < <("$extract" "$file" | stats_p95)
	for st in "$@"; do
		rec "${st%%:*}" "${st#*:}" rtt_med "$med"
		rec "${st%%:*}" "${st#*:}" rtt_p95 "$p95"
	done
}

lines() { wc -l <"$1"; }

# Echo replies counted from fping -q / -c summaries on stderr ("xmt/rcv/%loss = 1/1/0%").
fping_replies() {
	awk -F'= ' '/xmt\/rcv\/%loss/ { split($2, a, "/"); s += a[2] } END { print s + 0 }' "$1"
}

# Echo replies counted from pingr's summary table (sum of the RECV column).
pingr_replies() {
	awk '$1 == "TARGET" { for (i = 1; i <= NF; i++) if ($i == "RECV") c = i; next }
		c && $c ~ /^[0-9]+$/ { s += $c } END { print s + 0 }' "$1"
}

# Numbers on stdin -> "median p95 count" (NA NA 0 when there are none); p95 is the
# smallest value with at least 95% of the values at or below it.
stats_p95() {
	sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "NA NA 0"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			k = int((NR * 95 + 99) / 100); if (k < 1) k = 1
			printf "%.4f %.4f %d\n", m, v[k], NR
		}'
}

# The fewest probes any target got: from fping's "xmt/rcv/%loss = 10/10/0%" lines, or
# pingr's summary table (SENT column).
fping_min_sent() {
	awk -F'= ' '/xmt\/rcv\/%loss/ { split($2, a, "/"); n++; if (n == 1 || a[1] + 0 < m) m = a[1] + 0 }
		END { print (n ? m : 0) }' "$1"
}
pingr_min_sent() {
	awk '$1 == "TARGET" { for (i = 1; i <= NF; i++) if ($i == "SENT") c = i; next }
		c && $c ~ /^[0-9]+$/ { n++; if (n == 1 || $c + 0 < m) m = $c + 0 } END { print (n ? m : 0) }' "$1"
}

# RTTs (ms) of the per-reply lines of ping / pingr ("time=X ms") or fping
# ("127.0.0.1 : [N], 64 bytes, X ms (...)").
rtts_ping() { sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$1"; }
rtts_fping() { sed -n 's/^[^ ]* : \[[0-9]*\], [0-9]* bytes, \([0-9.]*\) ms .*/\1/p' "$1"; }

# one_shots TOOL CMD...: REPS runs of `CMD -c1 127.0.0.1` one after another (S6): the mean
# wall time of one and how many failed.
one_shots() {
	local tool=$1 fails=0 i t0 t1
	shift
	t0=$EPOCHREALTIME
	for ((i = 0; i < REPS; i++)); do "$@" -c1 127.0.0.1 >/dev/null 2>&1 || fails=$((fails + 1)); done
	t1=$EPOCHREALTIME
	rec S6 "$tool" wall1 "$(awk -v t="$(elapsed_ms "$t0" "$t1")" -v n="$REPS" 'BEGIN { printf "%.3f", t / n }')"
	rec S6 "$tool" fails "$fails"
}

# rounds CMD...: CMD once per round (ROUNDS of them), each round logged.
rounds() {
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		"$@"
		log "  round $r/$ROUNDS done"
	done
}

# One round of each scenario (inner's locals: $o the run's output prefix, $P pingr, the
# target files $F4K...). sweep SCENARIO GAP: the 4,096 targets once by fping (-i GAP ms)
# and once by pingr (--gap GAP ms).
sweep() {
	measure "$1" fping fping_replies err fping -q -c1 -i "$2" -f "$F4K"
	measure "$1" pingr pingr_replies out "$P" -q -c1 --gap "$2" -f "$F4K"
}

s3_round() {
	measure S3 fping lines out fping -a -c1 -i 0 -f "$F64K"
	if ((RC != 0)) && [[ ! -s $work/s3-fping-error ]]; then
		{ echo "exit status $RC:"; grep -v ' : xmt/rcv' "$o.err" | head -n 3; } >"$work/s3-fping-error"
	fi
	measure S3 pingr lines out "$P" -a -c1 --gap 0 -f "$F64K"
	if ((RC != 0)) && [[ ! -s $work/s3-pingr-error ]]; then
		{ echo "exit status $RC:"; head -n 3 "$o.err"; } >"$work/s3-pingr-error"
	fi
}

s4_round() { # measure_rtts S4 TOOL EXTRACT CMD...: `timed` CMD, its figures and RTTs
	measure_rtts S4 ping rtts_ping ping -c 200 -i 0.002 127.0.0.1
	# -i 0: without it fping keeps its default 10 ms gap between any two
	# probes, so -p 2 alone really probes every 10 ms (2 s instead of 0.4 s).
	measure_rtts S4 fping rtts_fping fping -c 200 -p 2 -i 0 127.0.0.1
	measure_rtts S4 pingr rtts_ping "$P" -c 200 -i 0.002 127.0.0.1
}

s5_round() {
	timed "$o" fping -q -c 10 -p 100 -i 0 -f "$F1K"
	rec_std S5 fping
	rec_std S5b fping
	rec S5 fping replies "$(fping_replies "$o.err")"
	measure S5 pingr pingr_replies out "$P" -q -c 10 -i 0.1 --gap 0 --max-threads 1000 -f "$F1K"
	# S5b: the same targets with pingr's default thread cap.
	measure S5b pingr pingr_replies out "$P" -q -c 10 -i 0.1 --gap 0 -f "$F1K"
	# Per-reply RTTs: the same runs printing a line per reply (not timed).
	fping -c 10 -p 100 -i 0 -f "$F1K" >"$o.out" 2>/dev/null
	rec_p95 rtts_fping "$o.out" S5:fping S5b:fping
	"$P" -c 10 -i 0.1 --gap 0 --max-threads 1000 -f "$F1K" >"$o.out" 2>/dev/null
	rec_p95 rtts_ping "$o.out" S5:pingr
	"$P" -c 10 -i 0.1 --gap 0 -f "$F1K" >"$o.out" 2>/dev/null
	rec_p95 rtts_ping "$o.out" S5b:pingr
}

s7_round() {
	measure S7 fping fping_replies err timeout --preserve-status -s INT 10 fping -q -l -p 1000 -i 0.1 -f "$F2K"
	rec S7 fping min_sent "$(fping_min_sent "$o.err")"
	measure S7 pingr pingr_replies out timeout --preserve-status -s INT 10 "$P" -q -i 1 --gap 0.1 -f "$F2K"
	rec S7 pingr min_sent "$(pingr_min_sent "$o.out")"
}

s6_round() {
	one_shots ping ping
	one_shots pingr "$P"
}

inner() {
	local work=$1
	DATA=$work/data.tsv
	local P=$work/pingr F4K=$work/targets-4096 F64K=$work/targets-65536 F1K=$work/targets-1000
	local F2K=$work/targets-2000
	local o=$work/run

	# Refuse to send anything unless this is a private namespace holding only lo.
	[[ $(readlink /proc/self/ns/net) != "$(readlink /proc/1/ns/net)" ]] ||
		die "refusing to run: not inside a private network namespace"
	[[ $(ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ') == "lo " ]] ||
		die "refusing to run: the namespace holds interfaces other than lo"

	log "S1 rate-bound sweep: 4,096 targets, 1 ms gap ($ROUNDS rounds, ~9 s each)"
	rounds sweep S1 1

	log "S2 unthrottled sweep: 4,096 targets, no gap"
	rounds sweep S2 0

	log "S3 big sweep: 65,536 targets (127.0.0.0/16), no gap"
	rounds s3_round

	log "S4 single-host accuracy: 200 probes at 2 ms to 127.0.0.1"
	rounds s4_round

	log "S5 steady monitoring: 1,000 targets x 10 probes at 100 ms"
	rounds s5_round

	log "S7 continuous monitoring: 2,000 targets, -i 1, SIGINT after 10 s ($ROUNDS rounds, ~20 s each)"
	rounds s7_round

	log "S6 one-shot: $REPS x 'TOOL -c1 127.0.0.1' per round"
	rounds s6_round

	s8_inner "$o" "$P"
}

# ------------------------------------------------------------- reporting ---

# Median over the rounds of one figure ("NA" when never recorded).
med() {
	awk -F'\t' -v s="$1" -v t="$2" -v m="$3" '$1 == s && $2 == t && $3 == m && $4 != "NA" { print $4 }' "$DATA" |
		stats | awk '{ print $1 }'
}

# Exit statuses of one tool in one scenario: "0 (5/5)" or "4 (5/5)" or "0 (3/5), 1 (2/5)".
statuses() {
	awk -F'\t' -v s="$1" -v t="$2" -v m="${3:-rc}" '$1 == s && $2 == t && $3 == m { c[$4]++; n++ }
		END { for (k in c) out = out (out ? ", " : "") k " (" c[k] "/" n ")"; print out }' "$DATA"
}

# True when TOOL ever exited with a status other than 0 or 1 in SCENARIO
# (1 only means some target did not answer for fping, ping and pingr).
failed() {
	awk -F'\t' -v s="$1" -v t="$2" '$1 == s && $2 == t && $3 == "rc" && $4 != 0 && $4 != 1 { f = 1 } END { exit !f }' "$DATA"
}

fmt() { # fmt PRINTF-FORMAT VALUE
	if [[ $2 == NA || -z $2 ]]; then echo "-"; else awk -v f="$1" -v v="$2" 'BEGIN { printf f, v }'; fi
}

ROWS=()
row() { ROWS+=("$(printf '%s\t' "$@")"); }

# figure SCENARIO LABEL METRIC PRINTF-FORMAT ANCHORS...: one table row; the
# ratio is pingr / the lowest median among anchors that did not fail.
figure() {
	local s=$1 label=$2 m=$3 f=$4 a v best=NA
	shift 4
	local -A cell=([fping]="-" [ping]="-")
	for a in "$@"; do
		v=$(med "$s" "$a" "$m")
		cell[$a]=$(fmt "$f" "$v")
		if failed "$s" "$a"; then
			cell[$a]+=" (failed)"
		elif [[ $v != NA ]]; then
			if [[ $best == NA ]] || awk -v x="$v" -v y="$best" 'BEGIN { exit !(x < y) }'; then best=$v; fi
		fi
	done
	v=$(med "$s" pingr "$m")
	local ratio="n/a"
	if [[ $best != NA && $v != NA ]] && ! failed "$s" pingr; then
		ratio=$(awk -v p="$v" -v b="$best" 'BEGIN { if (b > 0) printf "%.2f", p / b; else print "n/a" }')
	fi
	local pc
	pc=$(fmt "$f" "$v")
	failed "$s" pingr && pc+=" (failed)"
	row "$s" "$label" "${cell[fping]}" "${cell[ping]}" "$pc" "$ratio"
}

# info SCENARIO LABEL METRIC PRINTF-FORMAT ANCHORS...: a row without a ratio.
info() {
	local s=$1 label=$2 m=$3 f=$4 a
	shift 4
	local -A cell=([fping]="-" [ping]="-")
	for a in "$@"; do cell[$a]=$(fmt "$f" "$(med "$s" "$a" "$m")"); done
	row "$s" "$label" "${cell[fping]}" "${cell[ping]}" "$(fmt "$f" "$(med "$s" pingr "$m")")" "-"
}

# status_row SCENARIO ANCHORS...: exit statuses, shown when any is non-zero (always for S3).
status_row() {
	local s=$1 a all=""
	shift
	local -A cell=([fping]="-" [ping]="-")
	for a in "$@" pingr; do
		cell[$a]=$(statuses "$s" "$a")
		all+=$(awk -F'\t' -v s="$s" -v t="$a" '$1 == s && $2 == t && $3 == "rc" && $4 != 0 { print "x" }' "$DATA")
	done
	[[ -n $all || $s == S3 ]] && row "$s" "exit status (rounds)" "${cell[fping]}" "${cell[ping]}" "${cell[pingr]}" "-"
}

# Rows on stdin (cells each ending in a tab; the second row is the rule) -> a Markdown
# table with aligned columns.
align_table() {
	awk -F'\t' '
		{ for (i = 1; i < NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF - 1 }
		END {
			for (r = 1; r <= n; r++) {
				line = "|"
				for (i = 1; i <= nf; i++) {
					v = c[r, i]
					if (r == 2) { v = ""; for (k = 0; k < w[i]; k++) v = v "-" }
					line = line " " sprintf("%-" w[i] "s", v) " |"
				}
				print line
			}
		}'
}

# The result rows -> the Markdown results table.
render_table() {
	{
		printf 'Scenario\tFigure (median of %s rounds)\tfping\tping\tpingr\tpingr / best anchor\t\n' "$ROUNDS"
		printf -- '-\t-\t-\t-\t-\t-\t\n'
		printf '%s\n' "${ROWS[@]}"
	} | align_table
}

size_kib() { # stripped size of a binary, in KiB
	local out=$WORK/stripped
	if strip -o "$out" "$1" 2>/dev/null || objcopy --strip-all "$1" "$out" 2>/dev/null; then
		awk -v b="$(stat -c %s "$out")" 'BEGIN { printf "%.1f", b / 1024 }'
	else
		awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f (unstripped)", b / 1024 }'
	fi
}

# ------------------------------------------------- S6 sizes (issue 13) ---
# Every pingr build `make bench` made (release, static musl, tiny) beside fping, iputils
# ping and BusyBox, stripped, with how each is linked. A build that is missing (its
# toolchain is not installed) is listed as not built, with the make target to run.

linkage() { # "static" or "dynamic" (ELF program interpreter present), "?" without readelf
	if ! command -v readelf >/dev/null 2>&1; then echo "?"; return; fi
	if readelf -lW "$1" 2>/dev/null | grep -q 'program interpreter'; then echo dynamic; else echo static; fi
}

s6_sizes_table() {
	local host static_t fk gk bk
	host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
	static_t=$(uname -m)-unknown-linux-musl
	fk=$(size_kib "$(command -v fping)")
	gk=$(size_kib "$(command -v ping)")
	local bb
	bb=$(command -v busybox || true)
	bk=NA
	[[ -n $bb ]] && bk=$(size_kib "$bb")
	ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { if (b + 0 > 0 && a != "NA") printf "%.2f", a / b; else print "-" }'; }
	{
		printf 'Binary	linked	stripped KiB	vs fping	vs ping	vs BusyBox	
-	-	-	-	-	-	
'
		local name path how k
		while IFS='|' read -r name path how; do
			if [[ -x $path ]]; then
				k=$(size_kib "$path")
				printf '%s	%s	%s	%s	%s	%s	
' "$name" "$(linkage "$path")" "$k" "$(ratio "$k" "$fk")" "$(ratio "$k" "$gk")" "$(ratio "$k" "$bk")"
			else
				printf '%s	-	not built (%s)	-	-	-	
' "$name" "$how"
			fi
		done <<EOT
pingr release (stable)|$ROOT/target/release/pingr|make build
pingr static ($static_t)|$ROOT/target/$static_t/release/pingr|make static
pingr tiny (nightly, $host)|$ROOT/target/$host/tiny/pingr|make tiny
pingr tiny static (nightly, $static_t)|$ROOT/target/$static_t/tiny/pingr|make tiny TARGET=$static_t
fping|$(command -v fping)|apt-get install fping
ping (iputils)|$(command -v ping)|apt-get install iputils-ping
BusyBox (whole multi-call binary)|$bb|apt-get install busybox-static
EOT
	} | align_table
}

# ------------------------------------------------------------------ main ---

outer() {
	local started=$EPOCHREALTIME missing=()
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer (got '$ROUNDS')"
	[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer (got '$REPS')"
	((ROUNDS >= 5)) || log "warning: ROUNDS=$ROUNDS; the figures are meant as medians of at least 5 rounds"

	command -v fping >/dev/null 2>&1 || missing+=("fping (apt-get install fping)")
	if ! command -v ping >/dev/null 2>&1 || ! ping -V 2>&1 | grep -q iputils; then
		missing+=("ping from iputils (apt-get install iputils-ping)")
	fi
	if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time --version 2>&1 | grep -q 'GNU'; then
		missing+=("GNU /usr/bin/time (apt-get install time)")
	fi
	command -v ip >/dev/null 2>&1 || missing+=("ip (apt-get install iproute2)")
	command -v strip >/dev/null 2>&1 || command -v objcopy >/dev/null 2>&1 || log "note: strip/objcopy not found (binutils); S6 reports unstripped sizes"
	[[ -x $PINGR_BUILT ]] || missing+=("$PINGR_BUILT (not built: run 'make build', or use 'make bench', which builds it first)")
	if ((${#missing[@]})); then
		printf 'missing: %s\n' "${missing[@]}" >&2
		exit 1
	fi
	((EUID == 0)) || die "must run as root (creates a network namespace for the loopback-only probes)"

	WORK=$(mktemp -d /tmp/pingr-bench.XXXXXX) || die "mktemp failed"
	NS=pingr-bench-$$
	NS_MADE=0
	cleanup() {
		((NS_MADE)) && ip netns del "$NS" 2>/dev/null
		if [[ ${KEEP:-0} == 1 ]]; then log "raw data kept in $WORK"; else rm -rf "$WORK"; fi
	}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# A private copy, so a concurrent `cargo build` cannot swap the binary mid-run.
	cp "$PINGR_BUILT" "$WORK/pingr"
	DATA=$WORK/data.tsv
	: >"$DATA"

	log "generating target files in $WORK"
	local a b
	for ((a = 0; a < 16; a++)); do for ((b = 0; b < 256; b++)); do echo "127.1.$a.$b"; done; done >"$WORK/targets-4096"
	for ((a = 0; a < 256; a++)); do for ((b = 0; b < 256; b++)); do echo "127.0.$a.$b"; done; done >"$WORK/targets-65536"
	head -n 1000 "$WORK/targets-4096" >"$WORK/targets-1000"
	head -n 2000 "$WORK/targets-4096" >"$WORK/targets-2000"

	log "creating network namespace $NS (lo only)"
	ip netns add "$NS" || die "ip netns add $NS failed"
	NS_MADE=1
	ip netns exec "$NS" ip link set lo up || die "could not bring lo up in $NS"

	ROUNDS=$ROUNDS REPS=$REPS ip netns exec "$NS" bash "$SELF" __inner "$WORK" ||
		die "the benchmark body failed (exit $?)"

	ip netns del "$NS" && NS_MADE=0

	# --- table ---
	figure S1 "wall ms" wall "%.1f" fping
	local fw pw
	fw=$(med S1 fping wall)
	pw=$(med S1 pingr wall)
	row S1 "wall / 4.096 s floor" "$(fmt "%.3f" "$(awk -v w="$fw" -v f=$FLOOR_MS 'BEGIN { print (w == "NA") ? "NA" : w / f }')")" "-" \
		"$(fmt "%.3f" "$(awk -v w="$pw" -v f=$FLOOR_MS 'BEGIN { print (w == "NA") ? "NA" : w / f }')")" "-"
	info S1 "replies (of 4,096)" replies "%d" fping
	status_row S1 fping

	figure S2 "wall ms" wall "%.1f" fping
	figure S2 "CPU ms (user+sys)" cpu "%.0f" fping
	figure S2 "peak RSS KiB" rss "%.0f" fping
	info S2 "replies (of 4,096)" replies "%d" fping
	status_row S2 fping

	figure S3 "wall ms" wall "%.1f" fping
	figure S3 "peak RSS KiB" rss "%.0f" fping
	info S3 "alive (of 65,536)" replies "%d" fping
	status_row S3 fping

	figure S4 "median RTT ms" rtt_med "%.4f" fping ping
	figure S4 "mean RTT ms" rtt_mean "%.4f" fping ping
	figure S4 "CPU ms (user+sys)" cpu "%.0f" fping ping
	figure S4 "wall ms" wall "%.1f" fping ping
	info S4 "replies (of 200)" replies "%d" fping ping
	status_row S4 fping ping

	figure S5 "wall ms" wall "%.1f" fping
	figure S5 "CPU ms (user+sys)" cpu "%.0f" fping
	figure S5 "peak RSS KiB" rss "%.0f" fping
	figure S5 "per-reply RTT median ms" rtt_med "%.4f" fping
	figure S5 "per-reply RTT p95 ms" rtt_p95 "%.4f" fping
	info S5 "replies (of 10,000)" replies "%d" fping
	status_row S5 fping

	figure S5b "wall ms (default --max-threads)" wall "%.1f" fping
	figure S5b "CPU ms (user+sys)" cpu "%.0f" fping
	figure S5b "peak RSS KiB" rss "%.0f" fping
	figure S5b "per-reply RTT median ms" rtt_med "%.4f" fping
	figure S5b "per-reply RTT p95 ms" rtt_p95 "%.4f" fping
	info S5b "replies (of 10,000)" replies "%d" fping

	figure S7 "CPU ms (user+sys)" cpu "%.0f" fping
	figure S7 "peak RSS KiB" rss "%.0f" fping
	info S7 "fewest probes of a target (goal >= 9)" min_sent "%d" fping
	info S7 "replies" replies "%d" fping
	info S7 "wall ms" wall "%.1f" fping
	status_row S7 fping

	figure S6 "wall ms per run ($REPS runs/round)" wall1 "%.3f" ping
	info S6 "failed runs per round" fails "%d" ping
	local ps gs fs
	ps=$(size_kib "$WORK/pingr")
	gs=$(size_kib "$(command -v ping)")
	fs=$(size_kib "$(command -v fping)")
	row S6 "stripped binary KiB" "$fs" "$gs" "$ps" "$(awk -v p="${ps%% *}" -v g="${gs%% *}" -v f="${fs%% *}" 'BEGIN { b = (g < f) ? g : f; printf "%.2f", p / b }')"

	s8_report

	# --- notes ---
	local notes=()
	notes+=("Lower is better for every figure with a ratio; the ratio is pingr's median over the lowest median among anchors that ran without error.")
	notes+=("S1 floor: 4,096 probes at 1 ms apart cannot finish in less than 4.096 s; 1.000 would be perfect pacing.")
	if [[ -s $WORK/s3-fping-error ]]; then
		notes+=("S3 fping failed: $(tr '\n' ' ' <"$WORK/s3-fping-error" | sed 's/ *$//'). Its wall/RSS are those of the failed run and are not used as a ratio base.")
	else
		notes+=("S3 fping completed without error.")
	fi
	[[ -s $WORK/s3-pingr-error ]] && notes+=("S3 pingr exited non-zero: $(tr '\n' ' ' <"$WORK/s3-pingr-error" | sed 's/ *$//').")
	notes+=("S4 runs fping as 'fping -c 200 -p 2 -i 0 127.0.0.1': without -i 0, fping's default 10 ms gap between any two probes makes -p 2 probe every 10 ms (2 s per run). RTT figures are per-run median/mean of the per-reply lines, then the median over rounds.")
	notes+=("S5 runs fping with -i 0 (accepted as root); pingr with --max-threads 1000 (a thread per target) in S5 and its default cap in S5b. The per-reply RTT rows come from the same runs repeated without -q (not timed): median and p95 of every reply line of the run, then the median over rounds.")
	notes+=("S7: 2,000 targets probed every second until SIGINT at 10 s. Both tools get a 0.1 ms gap between any two probes (fping -i 0.1, pingr --gap 0.1): with fping's default -i 10 ms a round of 2,000 targets takes 20 s, with pingr's default --gap 1 ms 2 s, so neither could probe every target every second. CPU and RSS include timeout(1), which only waits.")
	notes+=("Goals (issue 9), pingr / fping in the same run: S5 and S5b wall <= 1.0, CPU <= 1.0, RSS <= 1.5, per-reply RTT median and p95 <= 1.0; S2 wall <= 1.0, CPU <= 1.0, RSS <= 1.5; S7 every target >= 9 probes, CPU <= 1.0, RSS <= 1.5; S3 all 65,536 alive, wall <= 1000 ms, peak RSS <= 20480 KiB; S4 median RTT <= iputils ping, CPU <= fping.")
	notes+=("CPU is user+sys of the child processes (bash 'time', ms resolution) and includes about 1 ms for GNU time itself, which reports the peak RSS (%M). Wall is EPOCHREALTIME around the command.")
	notes+=("S6 sizes: the binaries stripped with strip(1) into a scratch file; ping and fping are dynamically linked against the system's libc, as is pingr (its Rust standard library is linked in statically).")

	notes+=("$(s8_note)")

	local total
	total=$(awk -v ms="$(elapsed_ms "$started" "$EPOCHREALTIME")" 'BEGIN { printf "%.0f", ms / 1000 }')
	local table sizes
	table=$(render_table)
	sizes=$(s6_sizes_table)

	printf '\n%s\n\n' "$table"
	printf 'S6 binary sizes:\n\n%s\n\n' "$sizes"
	printf 'Notes:\n'
	printf -- '- %s\n' "${notes[@]}"
	printf '\nTotal runtime: %s s (ROUNDS=%s, REPS=%s)\n' "$total" "$ROUNDS" "$REPS"

	local mem cpu
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	{
		echo "# pingr benchmark results"
		echo
		echo "Produced by \`bench/run.sh\` (\`make bench\`): ROUNDS=$ROUNDS, REPS=$REPS, total runtime $total s."
		echo "All probes went to 127.0.0.0/8 inside a private network namespace holding only \`lo\`."
		echo
		echo "## Machine"
		echo
		echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		echo "- CPU: ${cpu:-unknown} ($(nproc) CPUs online)"
		echo "- memory: $mem"
		echo "- kernel: $(uname -r)"
		echo "- fping: $(fping -v 2>&1 | head -n 1 | sed 's/^fping: //')"
		echo "- ping: $(ping -V 2>&1 | head -n 1)"
		echo "- pingr: $("$WORK/pingr" -V 2>&1 | head -n 1)"
		echo
		echo "## Results"
		echo
		echo "$table"
		echo
		echo "## S6 binary sizes"
		echo
		echo "$sizes"
		echo
		echo "BusyBox is its whole static multi-call binary (every applet, not its ping alone)."
		echo
		echo "## Notes"
		echo
		printf -- '- %s\n' "${notes[@]}"
	} >"$RESULTS"
	log "wrote $RESULTS"
}

# ------------------------------------------ S8: beside another pinger's flood ---
# S8 (issue 14): the cost of other programs' ICMP. A raw ICMP socket receives a copy of every
# ICMP packet of the host; kernel filters decide whether a tool pays for the others' traffic.
# Each tool runs '-q -c 20 -i 0.1 127.0.0.2' alone, then beside 'ping -f -q 127.0.0.1' (the
# flood is started before and stopped after each group of three runs). Goal: pingr's CPU
# beside the flood <= iputils ping's + 10 ms.

# "N packets transmitted, M received" (ping, and pingr with one target): M.
s8_received() { sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p' "$1" | head -n 1; }

s8_round() {
	local cond flood
	for cond in S8 S8f; do
		flood=
		if [[ $cond == S8f ]]; then
			ping -f -q 127.0.0.1 >"$o.flood" 2>&1 &
			flood=$!
			sleep 0.3
		fi
		measure $cond ping s8_received out ping -q -c 20 -i 0.1 127.0.0.2
		measure $cond fping fping_replies err fping -q -c 20 -p 100 127.0.0.2
		measure $cond pingr s8_received out "$P" -q -c 20 -i 0.1 127.0.0.2
		if [[ -n $flood ]]; then
			kill -INT "$flood"
			wait "$flood" 2>/dev/null
			rec S8f flood replies "$(s8_received "$o.flood")"
		fi
	done
}

s8_inner() {
	local o=$1 P=$2
	log "S8 beside a flood: 'TOOL -q -c 20 -i 0.1 127.0.0.2' alone and beside 'ping -f -q 127.0.0.1'"
	rounds s8_round
}

s8_report() {
	figure S8 "CPU ms (user+sys), alone" cpu "%.0f" fping ping
	figure S8f "CPU ms (user+sys), beside ping -f" cpu "%.0f" fping ping
	info S8f "replies (of 20), beside ping -f" replies "%d" fping ping
	status_row S8f fping ping
	local pc gc goal=NA
	pc=$(med S8f pingr cpu)
	gc=$(med S8f ping cpu)
	if [[ $pc != NA && $gc != NA ]]; then
		goal=$(awk -v p="$pc" -v g="$gc" 'BEGIN { d = p - g; printf "%+.0f ms (goal <= +10 ms: %s)", d, (d <= 10) ? "met" : "missed" }')
	fi
	row S8f "pingr CPU - ping CPU, beside ping -f" "-" "-" "$goal" "-"
}

s8_note() {
	printf "S8: each tool runs '-q -c 20 -i 0.1 127.0.0.2' (fping: '-q -c 20 -p 100'), alone (S8) and beside 'ping -f -q 127.0.0.1' (S8f), which got a median %s echo replies per group of three runs. A raw socket receives every ICMP packet of the host unless a kernel filter keeps other programs' packets out: iputils ping and pingr attach BPF filters passing only their own identifiers; fping's CPU shows it pays for the flood's replies." "$(fmt "%d" "$(med S8f flood replies)")"
}

if [[ ${1:-} == __inner ]]; then
	inner "$2"
else
	outer "$@"
fi
