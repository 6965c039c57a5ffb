#!/bin/sh
# `make pipeline`: run the example GitLab pipeline (ci/gitlab-nightly.example.yml, unchanged)
# under gitlab-ci-local with a shell executor, on this machine's lab stand-ins, and check that
# its merged result equals one `run` of the same matrix. See docs/pipeline.md.
#
#   1. the lab: a socat pty pair is the serial cable of the "optiplex" board (a QEMU stand-in
#      started and stopped by its power commands); "x220" is a replay host playing real Redox
#      transcripts from ../shared/redox-logs (the stand-in's own transcript without them).
#   2. one `run` of the matrix on one machine: out/pipeline/single (also the gate's baseline).
#   3. the pipeline: qemu shards (parallel: 2), x220, optiplex, merge, gate, pages; each job
#      in its own build directory (--shell-isolation), artifacts passed by `needs:`.
#   4. out/pipeline/merged and out/pipeline/public copied from the jobs' artifacts, then
#      `go test ./ci -run TestPipelineMatchesOneRun` compares merged with single.
#   5. the merge-request pipeline (job mr-gate) on an "MR build" of the stand-in disk with one
#      check broken on purpose (its kernel refuses the HDA controller): the gate must fail with
#      exactly that new failure; its comment is out/pipeline/mr/comment.md.
# Exit: the pipeline's status, else the comparison's, else the MR gate's check.
set -eu
ROOT=$(pwd)
OUT="$ROOT/out/pipeline"
GCL=${GCL:-$ROOT/.cache/tools/gitlab-ci-local/node_modules/.bin/gitlab-ci-local}
BIN="$ROOT/bin/redox-hwtest"
FX="$ROOT/.cache/fixtures/current"
LOGS="$(cd "$ROOT/.." && pwd)/shared/redox-logs"
[ -x "$GCL" ] || { echo "pipeline: $GCL missing (make deps)" >&2; exit 2; }

# gitlab-ci-local's state (a copy of the tree per job) lives under .cache, which go ./...,
# gofmt and make fuzz never walk; the artifacts worth keeping are copied to out/pipeline.
STATE=.cache/pipeline-state
rm -rf "$OUT" "$STATE"
mkdir -p "$OUT/lab"
# Short private directory for the pty links and the board's pid file (they end up in QEMU's
# command line); removed at the end with the socat this script started.
LAB=$(mktemp -d /tmp/rhw-pipe-XXXXXX)
socat_pid=""
cleanup() {
  [ -f "$LAB/vm.pid" ] && kill "$(cat "$LAB/vm.pid")" 2>/dev/null || true
  [ -n "$socat_pid" ] && kill "$socat_pid" 2>/dev/null || true
  rm -rf "$LAB"
}
trap cleanup EXIT INT TERM
socat PTY,rawer,link="$LAB/vm" PTY,rawer,link="$LAB/lab" 2>"$OUT/lab/socat.log" &
socat_pid=$!
i=0
until [ -e "$LAB/vm" ] && [ -e "$LAB/lab" ]; do
  i=$((i + 1)); [ "$i" -le 100 ] || { echo "pipeline: socat pty pair did not come up" >&2; exit 2; }
  sleep 0.1
done

# Real Redox transcripts for the replayed machine where ../shared is present.
if [ -d "$LOGS" ]; then
  T1="$LOGS/redoxos-nix-qemu-x86_64-graphical-boot.log"
  T2="$LOGS/nixredox-qemu-x86_64-graphical-panic-then-login.log"
  XF="xfail: [{image: replay-boot, check: boot/no-crash, reference: \"redoxos-nix-qemu-x86_64-graphical-boot.log line 96: Orbital exits after the shell prompt\"}, {image: replay-panic-then-login, check: boot/no-crash, reference: \"nixredox-qemu-x86_64-graphical-panic-then-login.log line 69: a daemon panics before login\"}]"
else
  echo "pipeline: ../shared/redox-logs absent: the replayed machine has no Redox transcript to play" >&2
  exit 2
fi
vm="$LAB/vm.pid"
q="qemu-system-x86_64 -accel tcg -cpu max -m 512 -display none -monitor none -nic none -kernel $FX/vmlinuz-x86_64 -initrd $FX/initrd-x86_64.cpio.gz -append 'console=ttyS0 panic=-1' -serial $(readlink -f "$LAB/vm") -name rhw-pipeline-board -daemonize -pidfile $vm"

# The pipeline's matrix: small on purpose (two VM jobs, two replayed boots, one board).
cat > "$OUT/matrix.yaml" <<EOF
# Written by ci/pipeline.sh for this run (absolute paths: every pipeline job has its own build dir).
settings: {silence: 3s, boot_timeout: 30s}
images:
  - {name: standin-x86_64-uefi, arch: x86_64, variant: standin, version: fixtures, firmware: uefi, profile: standin,
     path: $FX/disk-uefi-x86_64.img}
  - {name: board-preinstalled, arch: x86_64, variant: standin, version: fixtures, firmware: bios, profile: standin,
     path: $FX/nvme.img}
  - {name: replay-boot, arch: x86_64, variant: recorded, profile: redox, transcript: $T1}
  - {name: replay-panic-then-login, arch: x86_64, variant: recorded, profile: redox, transcript: $T2}
hosts:
  - {name: qemu-x86_64-uefi, kind: qemu, arch: x86_64, firmware: uefi, machine: q35, memory: 512M, smp: 1, accel: tcg,
     devices: [nvme, e1000, hda]}
  # The "real machines" of the example pipeline, played by stand-ins.
  - {name: x220, kind: replay, arch: x86_64, time_scale: 1, $XF}
  # The board is a TCG QEMU sharing the controller's cores with the VM shards (a real board
  # is not slowed by the controller's load, and the scheduler stretches only VM timeouts):
  # its first byte came 21 s after power-on in a quiet single run, past 30 s in the pipeline.
  - name: optiplex
    kind: power
    arch: x86_64
    firmware: bios
    time_scale: 30
    options:
      device: $(readlink -f "$LAB/lab")
      baud: 115200
      power:
        on: "rm -f $vm; $q"
        off: "[ -f $vm ] && kill \$(cat $vm) 2>/dev/null; for i in \$(seq 50); do kill -0 \$(cat $vm) 2>/dev/null || exit 0; sleep 0.1; done; kill -9 \$(cat $vm)"
        status: "kill -0 \$(cat $vm 2>/dev/null) 2>/dev/null && echo on || echo off"
        min_off: 500ms
suites:
  - {name: boot}
  - {name: drivers, labels: ["kind:qemu"]}
EOF

go build -o "$BIN" ./cmd/redox-hwtest
start=$(date +%s)
echo "pipeline: one run of the same matrix (the baseline and the reference) -> $OUT/single" >&2
"$BIN" run -matrix "$OUT/matrix.yaml" -run-id pipeline-single -out "$OUT/single" >"$OUT/single.log" 2>&1 || {
  s=$?; [ "$s" = 1 ] || [ "$s" = 0 ] || { tail -20 "$OUT/single.log" >&2; echo "pipeline: single run exit $s" >&2; exit 2; }; }

echo "pipeline: gitlab-ci-local $("$GCL" --version) on ci/gitlab-nightly.example.yml" >&2
status=0
"$GCL" --file ci/gitlab-nightly.example.yml --state-dir "$STATE" \
  --shell-isolation --force-shell-executor --no-artifacts-to-source --no-color --max-job-name-padding 12 \
  --variable CI_PIPELINE_SOURCE=schedule \
  --variable MATRIX="$OUT/matrix.yaml" \
  --variable BASELINE_DIR="$OUT/single" \
  --variable RUN_ID=pipeline-local \
  --variable HARDWARE_MD="$(cd "$ROOT/.." && pwd)/shared/redox-hardware/HARDWARE.md" \
  >"$OUT/gitlab-ci-local.log" 2>&1 || status=$?
grep -E '^ (PASS|FAIL|WARN) |pipeline finished' "$OUT/gitlab-ci-local.log" >&2 || true
end=$(date +%s)
[ "$status" = 0 ] || { tail -40 "$OUT/gitlab-ci-local.log" >&2; echo "pipeline: gitlab-ci-local exit $status" >&2; exit "$status"; }

art="$STATE/artifacts"
cp -r "$art/merge/merged" "$OUT/merged"
cp -r "$art/pages/public" "$OUT/public"
cp "$art/gate/gate.json" "$OUT/gate.json"
rm -rf "$STATE/builds"
echo "pipeline: green in $((end - start)) s (one run + the pipeline); merged: $OUT/merged, pages: $OUT/public/index.html" >&2
go test -count=1 ./ci -run TestPipelineMatchesOneRun -pipeline "$OUT"

# 5. The MR gate. The "MR's build": the stand-in UEFI disk whose systemd-boot entry also says
# snd_hda_intel.enable=0: the driver loads but refuses the controller (it stays unbound), so
# drivers/hda breaks as a driver that stopped binding would. (fx.skip=hda would not do: the
# harness reads "FX: skip hda" as a driver left out on purpose, SKIP.)
mkdir -p "$OUT/mr-image"
img="$OUT/mr-image/disk-uefi-x86_64-mr.img"
cp --sparse=always "$FX/disk-uefi-x86_64.img" "$img"
mtype -i "$img@@1M" ::/loader/entries/fx.conf | sed 's/^options .*/& snd_hda_intel.enable=0/' > "$OUT/mr-image/fx.conf"
mcopy -o -i "$img@@1M" "$OUT/mr-image/fx.conf" ::/loader/entries/fx.conf
sum=$(sha256sum "$img" | cut -d' ' -f1)
echo "pipeline: the MR gate on $img (sha256 $sum, HDA broken on purpose)" >&2
mstatus=0
"$GCL" mr-gate --file ci/gitlab-nightly.example.yml --state-dir "$STATE" \
  --shell-isolation --force-shell-executor --no-artifacts-to-source --no-color \
  --variable CI_PIPELINE_SOURCE=merge_request_event \
  --variable CI_MERGE_REQUEST_IID=1 \
  --variable MATRIX="$OUT/matrix.yaml" \
  --variable BASELINE_DIR="$OUT/merged" \
  --variable MR_IMAGE="$img" --variable MR_IMAGE_SHA256="$sum" \
  >"$OUT/gitlab-ci-local-mr.log" 2>&1 || mstatus=$?
cp -r "$STATE/artifacts/mr-gate/mr" "$OUT/mr"
rm -rf "$STATE/builds"
# Broken on purpose: the job must fail, on drivers/hda and nothing else.
if [ "$mstatus" = 0 ] || ! grep -q '`drivers/hda`: PASS → \*\*FAIL\*\*' "$OUT/mr/comment.md" || ! grep -q '^#### New failures (1)' "$OUT/mr/comment.md"; then
  tail -30 "$OUT/gitlab-ci-local-mr.log" >&2
  echo "pipeline: the MR gate did not report exactly the broken check (exit $mstatus); see $OUT/mr/comment.md" >&2
  exit 1
fi
echo "pipeline: MR gate failed as it must, on drivers/hda; comment: $OUT/mr/comment.md" >&2
