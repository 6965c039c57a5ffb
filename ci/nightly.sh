#!/bin/sh
# The nightly job (`make nightly`): run the matrix, compare with the last good run (re-running
# new failures before calling them regressions), publish the support page from every run kept.
# Exit 0 (no regression), 1 (regression), 2 (harness error).
#   OUT      where nightly runs accumulate (default out/nightly); OUT/baseline -> last good run
#   MATRIX   the matrix (default hw.yaml)
set -u
OUT=${OUT:-out/nightly}
MATRIX=${MATRIX:-hw.yaml}
BIN=${BIN:-bin/redox-hwtest}
mkdir -p "$OUT"
run="$OUT/$(date -u +%Y%m%dT%H%M%SZ)"
if [ -d "$OUT/baseline/jobs" ]; then
  "$BIN" run -matrix "$MATRIX" -out "$run" -gate "$OUT/baseline"
  status=$?
else
  # The first night has nothing to regress from: it only sets the baseline.
  "$BIN" run -matrix "$MATRIX" -out "$run"
  status=$?
  [ "$status" = 2 ] || status=0
fi
# shellcheck disable=SC2046
"$BIN" report site -o "$OUT/site" $(ls -d "$OUT"/2*/ 2>/dev/null) || echo "nightly: site not written" >&2
# Only a clean run becomes the baseline: no regression, no check lost to a lab fault (INFRA),
# and at least one check judged; otherwise the last good baseline stays.
if [ "$status" = 0 ] && "$BIN" gate --promotable "$run"; then
  ln -sfn "$(basename "$run")" "$OUT/baseline"
fi
echo "nightly: run $run, site $OUT/site/index.html, exit $status"
exit "$status"
