#!/usr/bin/env bash
# Debian packages the test suite and the data scripts use beyond Python wheels:
#   dcmtk          dcmmkdir builds a real DICOMDIR from sample files (imaging tests)
#   orthanc        a real PACS for the query/retrieve/send tests (run inside a private network namespace)
#   tesseract-ocr  finds burned-in text for Clean Pixel Data (de-identification; also carried in the desktop build)
#   poppler-utils  pdftoppm renders report pages to PNG, pdftotext reads them back (genomics report checks)
#   bcftools       per-sample genotype counts (bcftools stats) that the genomics tests compare against
#   iproute2, util-linux  ip / unshare for the private network namespace
# Installed when we are root (CI, the developer machines here) or have password-less sudo; otherwise the list of
# what is missing is printed and the tests that need a package skip, naming it.
set -u
PACKAGES="dcmtk tesseract-ocr tesseract-ocr-eng orthanc orthanc-dicomweb openssl poppler-utils bcftools iproute2 util-linux"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "system packages missing:$missing (install them with apt-get; tests that need them will skip)"; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null 2>&1
  $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null || echo "could not install:$missing"
}
# the packaged Orthanc service must not run on its own: tests start their own instance in a namespace
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now orthanc >/dev/null 2>&1 || true; fi
$SUDO service orthanc stop >/dev/null 2>&1 || true
exit 0
