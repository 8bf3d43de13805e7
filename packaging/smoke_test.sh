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
echo "== decoders (JPEG 2000, JPEG-LS, RLE, JPEG baseline through the frozen plugin discovery; 12-bit JPEG through GDCM's child process)"
for f in JPEG2000.dcm MR_small_jpeg_ls_lossless.dcm MR_small_RLE.dcm SC_rgb_jpeg_dcmtk.dcm JPEG-lossy.dcm; do "$APP" imaging info "$SAMPLE/$f"; done
echo "== notes pipeline and classifier (spaCy, medspaCy resources)"
printf 'FINDINGS: Moderate left pleural effusion. No pneumothorax.\nIMPRESSION: Left pleural effusion.\n' \
  > "$HOME_DIR/report.txt"
"$APP" notes analyze "$HOME_DIR/report.txt" --json | grep -q '"pleural effusion"'
echo "== imaging model (torch, MONAI Grad-CAM)"
"$APP" infer "$SAMPLE/CT_small.dcm" --model lesion_ct --explain gradcam --out "$HOME_DIR/infer"
test -s "$HOME_DIR/infer/predictions.json"
echo "== segmentation model (MONAI bundle config, SliceInferer, DICOM SEG with highdicom)"
"$APP" infer "$SAMPLE/CT_small.dcm" --model lesion_seg_ct --out "$HOME_DIR/seg" --dicom
test -s "$HOME_DIR/seg/series01/labels.nii.gz" && test -s "$HOME_DIR/seg/series01/segmentation.dcm"
echo "== window";             "$APP" gui --exit-after-shown "$HOME_DIR/study"
echo "smoke test passed"
