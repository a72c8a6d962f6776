#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a bounded time each, starting from the
# committed seeds, and turns each crash into a regression input.
#
#   bash fuzz/run-all.sh [SECONDS] [TARGET...]    (SECONDS: $FUZZ_SECONDS, default 600)
#
# Per target: fuzz/seeds/<target>/ is copied into the working corpus fuzz/corpus/<target>/
# (not committed; it keeps growing across runs), then `cargo fuzz run` runs one libFuzzer
# process for SECONDS. A crash, leak or timeout artifact (fuzz/artifacts/<target>/) is copied
# into fuzz/regressions/<target>/, where tests/regressions.rs replays it through the same
# harness (`cd fuzz && cargo test`); commit it with the fix. Exits non-zero when any target
# failed; the others still run. A summary table (target, seconds, result, corpus files,
# executions) is printed at the end and written to fuzz/run-all.last.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-${FUZZ_SECONDS:-600}}"
[ $# -gt 0 ] && shift
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build >/tmp/fuzz-build.log 2>&1 || { tail -n 60 /tmp/fuzz-build.log; exit 1; }

failed=0
summary="| target | seconds | result | corpus files | executions |"$'\n'"|---|---|---|---|---|"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  before=$(find "artifacts/$t" -type f | sort)
  echo "fuzzing $t for ${secs}s (log: /tmp/fuzz-$t.log)"
  result=clean
  if ! cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
      -max_len=65536 -timeout=20 -print_final_stats=1 >"/tmp/fuzz-$t.log" 2>&1; then
    result=FAILED
    failed=1
    tail -n 60 "/tmp/fuzz-$t.log"
  fi
  # Every new artifact becomes a regression input (named after the artifact).
  while IFS= read -r a; do
    [ -n "$a" ] || continue
    mkdir -p "regressions/$t"
    cp "$a" "regressions/$t/$(basename "$a")"
    echo "new regression input: fuzz/regressions/$t/$(basename "$a")"
  done < <(comm -13 <(echo "$before") <(find "artifacts/$t" -type f | sort))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "/tmp/fuzz-$t.log" | grep -oE '[0-9]+$' || echo '?')
  files=$(find "corpus/$t" -type f | wc -l)
  summary+=$'\n'"| $t | $secs | $result | $files | $execs |"
  grep -E "^(#[0-9]+ +DONE|Done)" "/tmp/fuzz-$t.log" | tail -n 1 || true
done
echo
echo "$summary" | tee run-all.last
[ "$failed" -eq 0 ] || { echo "some fuzz targets failed: see above and fuzz/regressions/" >&2; exit 1; }
