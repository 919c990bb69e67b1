#!/usr/bin/env bash
# bench/fleet.sh - the many-clusters case of `make bench` (bench/run calls it): EDGES edges of
# RESULTS generated results each, every one a real lighttpd serving its fleet export over
# loopback HTTPS, and a central snapshot job merging them with --fleet. Three central runs:
# every edge new (the first pull), none changed (conditional pulls only), every edge changed
# (each export rewritten, so each ETag changes and every export travels again). Each: wall
# time, bytes pulled, peak RSS, rows merged.
#
# Usage: bench/fleet.sh WORKDIR    prints one tab-separated table row per line on stdout
# Environment: BENCH_EDGES (100), BENCH_EDGE_RESULTS (10000), POLSNAP_BIN (bin/).
# The edges share one generated data set (one snapshot directory served by every lighttpd):
# the central names each edge apart, so its rows and ids are its own. Everything listens on
# 127.0.0.1 only; every lighttpd started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=${1:?usage: bench/fleet.sh WORKDIR}/fleet
EDGES=${BENCH_EDGES:-100}
RESULTS=${BENCH_EDGE_RESULTS:-10000}
BIN=${POLSNAP_BIN:-$ROOT/bin}
mkdir -p "$W"
PIDS=()
stop() { local p; for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
         for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap stop EXIT
say() { printf 'bench: %s\n' "$*" >&2; }

say "fleet: $EDGES edges of $RESULTS results, served over HTTPS by $EDGES lighttpd instances"
python3 tests/lib/gen_reports.py --results "$RESULTS" --out "$W/in" --format json >/dev/null
"$BIN/polsnap-snapshot" --source "files:$W/in" --data "$W/edge" --cluster edge >/dev/null 2>&1
export_file=$(readlink -f "$W/edge/current")/fleet/export.jsonl.gz

# a throw-away CA and a certificate for 127.0.0.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/ca.key" \
    -out "$W/ca.crt" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/tls.key" \
    -out "$W/tls.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$W/tls.ext"
openssl x509 -req -in "$W/tls.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
    -out "$W/tls.crt" -extfile "$W/tls.ext" 2>/dev/null

echo "edges:" >"$W/fleet.yaml"
for i in $(seq -w 1 "$EDGES"); do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$W/run/$i"
    POLSNAP_ROOT=$ROOT POLSNAP_DATA=$W/edge POLSNAP_PORT=$port POLSNAP_BIND=127.0.0.1 \
        POLSNAP_RUN=$W/run/$i POLSNAP_FCGI=$BIN/polsnap-fcgi POLSNAP_FCGI_PROCS=1 \
        POLSNAP_TLS_CERT=$W/tls.crt POLSNAP_TLS_KEY=$W/tls.key \
        setsid lighttpd -D -f "$ROOT/lighttpd.conf" >"$W/run/$i/log" 2>&1 &
    PIDS+=($!)
    printf '  - {name: store-%s, location: "https://127.0.0.1:%s"}\n' "$i" "$port" >>"$W/fleet.yaml"
done
for port in $(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$W/fleet.yaml"); do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

central() { # label: one central run; prints its table row
    local log=$W/central-$1.log
    /usr/bin/time -v -o "$log.time" "$BIN/polsnap-snapshot" --fleet "$W/fleet.yaml" \
        --polsnap-ca "$W/ca.crt" --data "$W/central" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    local wall rss bytes rows fleet
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$log.time")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$log.time")
    fleet=$(grep -h 'fleet:' "$log" | tail -1)
    bytes=$(sed -n 's/.*; \([0-9]*\) bytes received.*/\1/p' <<<"$fleet")
    rows=$(sed -n 's/.*: \([0-9]*\) rows from.*/\1/p' "$log" | tail -1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$wall" "$bytes" "$rss" "$rows"
    sed -n 's/.*fleet: \(.*\);.*/\1/p' <<<"$fleet" | sed "s/^/bench: fleet $1: /" >&2
}
central new >"$W/new.tsv"
central unchanged >"$W/unchanged.tsv"
# every export rewritten with the same bytes: a new mtime, so a new ETag, and a full pull
cp "$export_file" "$W/export.copy" && cp "$W/export.copy" "$export_file"
sleep 1.1 # lighttpd's stat cache ("simple") sees the new file within a second
central changed >"$W/changed.tsv"

label="$EDGES x $RESULTS"
IFS=$'\t' read -r _ cw cb cr rows <"$W/changed.tsv"
IFS=$'\t' read -r _ uw ub ur _ <"$W/unchanged.tsv"
IFS=$'\t' read -r _ nw nb nr _ <"$W/new.tsv"
mb() { awk -v b="$1" 'BEGIN { if (b < 1024) printf "%d B", b; else if (b < 1048576) printf "%.1f KB", b / 1024; else printf "%.1f MB", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.2f", a / b }'; }
printf '%s\t%s\t%s\t%s\t%s\n' \
    "$label" "central, first pull: wall / pulled / peak RSS" "$nw s / $(mb "$nb") / $nr MB" "" "" \
    "$label" "central, every edge changed: wall" "$cw s" "" "" \
    "$label" "  bytes pulled / peak RSS / rows merged" "$(mb "$cb") / $cr MB / $rows" "" "" \
    "$label" "central, no edge changed: wall" "$uw s" "every edge changed $cw s" "$(ratio "$cw" "$uw")" \
    "$label" "  bytes pulled / peak RSS" "$(mb "$ub") / $ur MB" "every edge changed $(mb "$cb")" "-"
