#!/usr/bin/env bash
# The README's main command: trains the default preset (aplnet-s-ap) on the embedded sample of real blood-cell images,
# evaluates it (report.html), and predicts a few images with attention overlays.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

RUN=${APLNET_DEMO_RUN:-runs/demo}
DATA=examples/pbc-sample
if [ -e "$RUN" ]; then
  echo "removing the previous demo run in $RUN"
  rm -rf "$RUN"
fi
aplnet() { node dist/src/cli/main.js "$@"; }

aplnet train "$DATA" --out "$RUN" --epochs "${APLNET_DEMO_EPOCHS:-30}" --batch 16 --seed 0 --patience 0
aplnet evaluate "$RUN"
aplnet predict "$RUN" "$DATA/eosinophil" "$DATA/lymphocyte" --overlays "$RUN/predictions" --format table
echo
echo "Done. Open the report: $(pwd)/$RUN/report.html"
echo "Explanation panels (the model's own map, evidence, and Grad-CAM) of the predictions: $(pwd)/$RUN/predictions/"
echo "Try the web app: node dist/src/cli/main.js serve $RUN"
