#!/usr/bin/env bash
# Pack dist/b24explorer.app (packaging/build.py makes it) into dist/b24explorer-<version>-macos-<arch>.dmg:
# a compressed disk image with the app and an /Applications shortcut to drag it onto.
#   packaging/macos/make_dmg.sh 0.1.0
# PyInstaller signs the bundle ad hoc, enough to run on the machine that downloads it after the usual
# right-click > Open. With CODESIGN_IDENTITY set (a "Developer ID Application" identity in the keychain) the
# app is signed with it and the hardened runtime instead; notarisation is a separate, account-bound step.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:?usage: make_dmg.sh VERSION}
app=dist/b24explorer.app
[ -d "$app" ] || { echo "no $app: run packaging/build.py first" >&2; exit 2; }
dmg="dist/b24explorer-${version}-macos-$(uname -m).dmg"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
ditto "$app" "$stage/b24explorer.app"
ln -s /Applications "$stage/Applications"
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$stage/b24explorer.app"
elif ! codesign --verify --deep --strict "$stage/b24explorer.app" 2>/dev/null; then
  # Apple Silicon refuses to run unsigned code: an ad-hoc signature over the whole bundle at least.
  codesign --force --deep --sign - "$stage/b24explorer.app"
fi
codesign --verify --deep --strict "$stage/b24explorer.app"
rm -f "$dmg"
hdiutil create -volname "b24explorer ${version}" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg" >/dev/null
hdiutil verify "$dmg" >/dev/null
echo "[macos] $dmg: $(du -h "$dmg" | cut -f1)"
