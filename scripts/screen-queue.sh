#!/bin/bash
# Runs recipe screening trainings one at a time (docs/accuracy-results.md), from a queue file whose
# lines are "NAME|extra train options", e.g. "rot-any6-ema|--epochs 6 --rotation any --ema 0.99".
# Each run goes to $RUNS/screen-NAME with side files scripts/recipe-table.mjs reads: .args, .start and
# .end (epoch seconds), .load (/proc/loadavg once a minute), .rc, .log. Lines may be appended while it
# runs; it waits for more when the queue is empty and exits when $QUEUE.stop exists.
#   nohup scripts/screen-queue.sh queue.txt ../shared/data/pbc-8class /tmp/runs > screen.log 2>&1 &
set -u
QUEUE=${1:?queue file}
DATA=${2:?dataset}
RUNS=${3:?folder for the runs}
cd "$(dirname "$0")/.."
while [ ! -e "$QUEUE.stop" ]; do
  line=$(head -n1 "$QUEUE" 2>/dev/null)
  if [ -z "$line" ]; then sleep 20; continue; fi
  sed -i '1d' "$QUEUE"
  name=${line%%|*}
  args=${line#*|}
  out="$RUNS/screen-$name"
  echo "$args" > "$out.args"
  date +%s > "$out.start"
  ( while true; do cat /proc/loadavg >> "$out.load"; sleep 60; done ) &
  sampler=$!
  # shellcheck disable=SC2086 # the options are meant to split into words
  nice -n 10 node dist/src/cli/main.js train "$DATA" --out "$out" $args > "$out.log" 2>&1
  echo $? > "$out.rc"
  date +%s > "$out.end"
  kill "$sampler"
done
