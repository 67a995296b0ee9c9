#!/usr/bin/env bash
# Runs campc's benchmarks and regenerates BENCHMARKS.md at the repository
# root from what they measured (figures, ratios, targets, the CPU profile of
# the batch run). Takes about seven minutes on the quiet 2-core machine
# (three of them the serve benchmarks, with PostgreSQL), and over 15 more
# for Simulate at 100,000 people (BENCH_SIM_PEOPLE=20000: 13 s).
#
#   bash bench/run.sh
#
# Environment:
#   COUNT=N                 runs of each benchmark (default 3; the report shows medians)
#   CAMPC_TEST_POSTGRES=URL measure PostgreSQL too; without it that benchmark is skipped.
#                           A private server: eval "$(.ci/postgres.sh start)" from the root.
#   BENCH_OUT=DIR           keep the raw output, commands and profile there
#                           (default: a new temporary directory)
#   BENCH_REPORT=FILE       write the report there instead of ../BENCHMARKS.md
#   BENCH_SIM_PEOPLE=N      the population of Simulate (default 100,000), said in the report
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
COUNT=${COUNT:-3}
OUT=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
: >"$OUT/raw.txt"
: >"$OUT/commands.txt"
echo "bench/run.sh: output in $OUT" >&2

load() { cut -d' ' -f1-3 /proc/loadavg; }
psql_version() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 | sed 's#.*/postgresql/\([^/]*\)/bin#PostgreSQL \1#'; }
LOAD_START=$(load)

# run logs a command exactly as it is executed, runs it, and keeps its output.
run() {
  echo "$1" >>"$OUT/commands.txt"
  echo "\$ $1" >&2
  eval "$1" 2>&1 | tee -a "$OUT/raw.txt"
}

T="go test -run '^\$' -benchmem -timeout=30m -count=$COUNT"
# Each pair side by side in one invocation; one op = one person, event or input.
# The batch pair gets more runs: it is the noisiest and the most watched.
run "go test -run '^\$' -benchmem -timeout=30m -count=$((COUNT + 2)) -bench '^(BenchmarkBatch|BenchmarkBatchParallel)\$' -benchtime=200000x ."
run "$T -bench '^BenchmarkPredicate\$' -benchtime=2000000x ."
run "$T -bench '^BenchmarkCheck\$' -benchtime=2s ."
run "$T -bench '^BenchmarkEvents\$' -benchtime=20000x ."
run "$T -bench '^BenchmarkBatchSQLite\$' -benchtime=20000x ."
run "$T -bench '^BenchmarkBatchPostgres\$' -benchtime=10000x ."
run "$T -bench '^BenchmarkLSPEdit\$' -benchtime=50x ."
# campc serve over HTTP: one op = one lead (5,000 a run: the one-lead
# calls' p99 is the 50th slowest), on SQLite and, with CAMPC_TEST_POSTGRES,
# PostgreSQL.
run "$T -bench '^BenchmarkServeTrigger\$' -benchtime=5000x ."
run "$T -bench '^BenchmarkServeEvents\$' -benchtime=10000x ."
# The console's campaign page over 100,000 people on SQLite (#15).
run "$T -bench '^BenchmarkConsoleCampaignPage\$' -benchtime=50x ."
# Several campc serve on one PostgreSQL through River (issue #13): one op is
# one whole batch run over BENCH_SCALEOUT_PEOPLE people (default 100,000),
# or BENCH_SCALEOUT_EVENTS list additions (default 10,000), with 1, 2 and 3
# services.
run "go test -run '^\$' -benchmem -timeout=30m -count=$COUNT -bench '^BenchmarkScaleOut\$' -benchtime=1x ."
# Alone in its process: the peak resident set is the process's.
run "go test -run '^\$' -benchmem -timeout=30m -count=1 -bench '^BenchmarkMemory\$' -benchtime=1x ."
# campc import runs as a child process; its peak resident set comes from its rusage.
run "go test -run '^\$' -benchmem -timeout=30m -count=1 -bench '^BenchmarkImport\$' -benchtime=1x ."
run "go test -run '^\$' -benchmem -timeout=30m -count=1 -bench '^BenchmarkCheckMemory\$' -benchtime=1x ."
# 30 days of virtual time over 100,000 people: one long op.
run "go test -run '^\$' -benchmem -timeout=30m -count=1 -bench '^BenchmarkSimulate\$' -benchtime=1x ."

# The CPU profile of the batch run through the engine.
P="go test -run '^\$' -count=1 -bench '^BenchmarkBatch\$/^campc\$' -benchtime=200000x -cpuprofile \"\$OUT/cpu.out\" -o \"\$OUT/bench.test\" ."
echo "$P" >>"$OUT/commands.txt"
echo "\$ $P" >&2
eval "$P" >"$OUT/profile-run.txt" 2>&1
Q="go tool pprof -top -nodecount=30 -focus='Engine..RunBatch' \"\$OUT/bench.test\" \"\$OUT/cpu.out\""
echo "$Q" >>"$OUT/commands.txt"
eval "$Q" >"$OUT/profile.txt" 2>/dev/null
Q="go tool pprof -top -cum -nodecount=40 -focus='Engine..RunBatch' \"\$OUT/bench.test\" \"\$OUT/cpu.out\""
echo "$Q" >>"$OUT/commands.txt"
eval "$Q" >"$OUT/profile-cum.txt" 2>/dev/null
Q="go tool pprof -top -nodecount=20 \"\$OUT/bench.test\" \"\$OUT/cpu.out\""
echo "$Q" >>"$OUT/commands.txt"
eval "$Q" >"$OUT/profile-all.txt" 2>/dev/null

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cores (nproc): $(nproc)"
  echo "CPU (/proc/cpuinfo model name): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "CPU (as go test reports it): $(grep -m1 '^cpu:' "$OUT/raw.txt" | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "kernel: $(uname -sr)"
  echo "go: $(go version)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(test -n "$(git status --porcelain -- .. 2>/dev/null)" && echo ' (with uncommitted changes)')"
  echo "load average (1, 5, 15 min) at start: $LOAD_START; at end: $(load)"
  echo "runs of each benchmark (-count): $COUNT; the Batch/BatchParallel pair $((COUNT + 2)); Memory, Import, CheckMemory and Simulate 1"
  if [ -n "${BENCH_SIM_PEOPLE:-}" ]; then
    echo "Simulate population: $BENCH_SIM_PEOPLE people (BENCH_SIM_PEOPLE; the benchmark's own is 100,000)"
  fi
  if [ -n "${CAMPC_TEST_POSTGRES:-}" ]; then
    echo "PostgreSQL: $(psql_version) on this machine, reached over 127.0.0.1 (started by .ci/postgres.sh: fsync off)"
  else
    echo "PostgreSQL: not measured (CAMPC_TEST_POSTGRES unset)"
  fi
} >"$OUT/machine.txt"

REPORT=${BENCH_REPORT:-../BENCHMARKS.md}
go run ./cmd/benchreport -dir "$OUT" -analysis analysis.md -out "$REPORT"
echo "bench/run.sh: wrote $REPORT" >&2
