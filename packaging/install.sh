#!/usr/bin/env bash
# Install the built MedStation folder system-wide (run as root): /opt/MedStation, a menu entry, the icon and the
# DICOM/VCF file associations. Usage: packaging/install.sh [dist/MedStation] [/opt/MedStation]
set -euo pipefail
SRC="${1:-dist/MedStation}"; DEST="${2:-/opt/MedStation}"
HERE="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$DEST.new" && cp -a "$SRC" "$DEST.new" && rm -rf "$DEST" && mv "$DEST.new" "$DEST"
ln -sf "$DEST/medstation" /usr/local/bin/medstation
install -Dm644 "$HERE/medstation.desktop" /usr/share/applications/medstation.desktop
sed -i "s#/opt/MedStation#$DEST#" /usr/share/applications/medstation.desktop
install -Dm644 "$HERE/../resources/icons/medstation.svg" /usr/share/icons/hicolor/scalable/apps/medstation.svg
install -Dm644 "$HERE/../resources/icons/medstation-256.png" /usr/share/icons/hicolor/256x256/apps/medstation.png
install -Dm644 "$HERE/medstation-dicom.xml" /usr/share/mime/packages/medstation-dicom.xml
command -v update-mime-database >/dev/null && update-mime-database /usr/share/mime || true
command -v update-desktop-database >/dev/null && update-desktop-database /usr/share/applications || true
echo "MedStation installed in $DEST"
