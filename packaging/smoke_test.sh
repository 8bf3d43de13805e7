#!/usr/bin/env bash
# Smoke test of the built application (dist/MedStation): version, model list and verification, a sample study
# indexed and opened headless, the window shown offscreen. Exits non-zero on the first failure.
set -euo pipefail
APP="${1:-dist/MedStation/medstation}"
HOME_DIR=$(mktemp -d)
export MEDSTATION_HOME="$HOME_DIR" QT_QPA_PLATFORM=offscreen
trap 'rm -rf "$HOME_DIR"' EXIT
echo "== version";            "$APP" --version
echo "== models";             "$APP" models list
                              "$APP" models verify
SAMPLE=$(dirname "$APP")/_internal/pydicom/data/test_files
[ -d "$SAMPLE" ] || SAMPLE=$(find "$(dirname "$APP")" -type d -path '*pydicom/data/test_files' | head -1)
mkdir -p "$HOME_DIR/study"
cp "$SAMPLE"/CT_small.dcm "$SAMPLE"/MR_small.dcm "$HOME_DIR/study/"
echo "== index a sample study"; "$APP" index "$HOME_DIR/study" --json
echo "== window";             "$APP" gui --exit-after-shown "$HOME_DIR/study"
echo "smoke test passed"
