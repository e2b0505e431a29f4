#!/usr/bin/env bash
# Installs everything citywall needs on a fresh Debian/Ubuntu machine:
# system packages (ffmpeg; for tests also the GStreamer RTSP server and
# Chromium), a virtual environment with the project, the demo/test media
# and the verified model weights. Idempotent: a second run only checks.
#
#   scripts/setup.sh          # runtime (demo)
#   scripts/setup.sh --dev    # runtime + test tools
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1
PYTHON="${PYTHON:-python3}"

RUNTIME_PKGS=(ffmpeg python3-venv)
TEST_PKGS=(chromium mosquitto mosquitto-clients gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
           gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
           gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-nice gir1.2-gst-plugins-bad-1.0)
pkgs=("${RUNTIME_PKGS[@]}")
(( DEV )) && pkgs+=("${TEST_PKGS[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the API docs assets below; any install of it will do.
command -v npm >/dev/null || missing+=(nodejs npm)
if (( ${#missing[@]} )); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [[ "$(id -u)" != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
extra=""
(( DEV )) && extra="[dev]"
stamp=".venv/.citywall-installed${extra}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extra}"
  touch "$stamp"
fi

# /docs and /redoc load their scripts from the service itself: a command-centre
# network has no internet. Pinned npm packages, checked against their registry
# integrity, unpacked into the git-ignored wall/web/vendor/ (only the files served).
VENDOR=wall/web/vendor
NPM_ASSETS=(
  "swagger-ui-dist 5.35.0 sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ== swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE"
  "redoc 2.5.4 sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ== bundles/redoc.standalone.js LICENSE"
)
for spec in "${NPM_ASSETS[@]}"; do
  read -r name version integrity files <<<"$spec"
  dest="$VENDOR/$name"
  [[ -f "$dest/.version" && "$(cat "$dest/.version")" == "$version $integrity" ]] && continue
  echo "setup: fetching npm package $name@$version for the API docs"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
  tarball="$(ls "$tmp"/*.tgz)"
  actual="$(.venv/bin/python -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
  if [[ "$actual" != "$integrity" ]]; then
    echo "setup: $name@$version does not match its pinned integrity" >&2
    rm -rf "$tmp"; exit 1
  fi
  rm -rf "$dest"; mkdir -p "$dest"
  # shellcheck disable=SC2086  # $files is a list of paths inside the package
  tar xzf "$tarball" -C "$tmp" $(printf 'package/%s ' $files)
  for f in $files; do cp "$tmp/package/$f" "$dest/$(basename "$f")"; done
  echo "$version $integrity" >"$dest/.version"
  rm -rf "$tmp"
done
# ReDoc's sidebar badge loads its logo from the vendor's CDN (the page's CSP would
# block it anyway); an empty image keeps the page offline and free of violations.
sed -i 's#https://cdn\.redoc\.ly/redoc/logo-mini\.svg#data:,#g' "$VENDOR/redoc/redoc.standalone.js"

.venv/bin/python scripts/make_media.py --out data/media $([[ $DEV == 1 ]] && echo all || echo demo)
.venv/bin/citywall models fetch
echo "setup: done"
