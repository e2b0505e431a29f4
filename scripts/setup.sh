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
TEST_PKGS=(chromium mosquitto gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
           gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
           gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-nice gir1.2-gst-plugins-bad-1.0)
pkgs=("${RUNTIME_PKGS[@]}")
(( DEV )) && pkgs+=("${TEST_PKGS[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
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

.venv/bin/python scripts/make_media.py --out data/media $([[ $DEV == 1 ]] && echo all || echo demo)
.venv/bin/citywall models fetch
echo "setup: done"
