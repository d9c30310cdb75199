#!/usr/bin/env bash
# Install the system packages Encosta's local stack needs on Debian 12 (bookworm) or 13 (trixie):
# PostgreSQL with the TimescaleDB extension, Mosquitto and its command-line clients.
# Idempotent: every step is skipped when what it installs is already there.
# Runs as root, or through sudo when it is available.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-system: run as root or install sudo" >&2; exit 1; fi
fi

log() { printf 'install-system: %s\n' "$*" >&2; }

debian_major=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
case "$debian_major" in
  12|bookworm*) PGV=15 ;;
  13|trixie*) PGV=17 ;;
  *) log "unsupported /etc/debian_version '$(cat /etc/debian_version 2>/dev/null)'; expected 12 or 13"; exit 1 ;;
esac

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Python 3.11+ with venv for the project's virtualenv (Debian's python3 on a bare machine).
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_install python3 python3-venv python3-pip
fi

apt_install "postgresql-$PGV" "postgresql-client-$PGV" mosquitto mosquitto-clients ca-certificates openssl
# The status page's tests render it in a real headless browser (tests/alerts/test_status_page.py).
apt_install chromium

pkglibdir=$(/usr/lib/postgresql/$PGV/bin/pg_config --pkglibdir 2>/dev/null || true)
if [ -n "$pkglibdir" ] && [ -f "$pkglibdir/timescaledb.so" ]; then
  :
elif [ "$PGV" = 17 ]; then
  apt_install postgresql-17-timescaledb
else
  # Debian 12 has no TimescaleDB package: build trixie's source package against PostgreSQL 15
  # (the recipe of LOCAL-SERVICES.md; about 20 s of compiling on 2 cores).
  apt_install "postgresql-server-dev-$PGV" cmake dpkg-dev build-essential xz-utils
  work=$(mktemp -d /tmp/encosta-ts-apt.XXXXXX)
  chmod 755 "$work"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || { log "cannot read a Debian mirror from this machine's apt sources"; exit 1; }
  echo "deb-src $mirror trixie main" > "$work/sources.list"
  o=(-oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/dev/null
     -oDir::State::Lists="$work/lists" -oDir::Cache="$work/cache")
  log "building TimescaleDB from Debian trixie's source package for PostgreSQL $PGV"
  $SUDO apt-get "${o[@]}" update -qq
  (cd "$work" && $SUDO apt-get "${o[@]}" source --download-only timescaledb >/dev/null)
  tar -C "$work" -xf "$work"/timescaledb_*.orig.tar.*
  src=$(find "$work" -maxdepth 1 -type d -name 'timescaledb-2.*' | head -n1)
  (cd "$src" && ./bootstrap -DREGRESS_CHECKS=OFF -DAPACHE_ONLY=ON -DWARNINGS_AS_ERRORS=OFF \
      -DPG_CONFIG=/usr/lib/postgresql/$PGV/bin/pg_config >/dev/null \
    && make -C build -j"$(nproc)" >/dev/null && $SUDO make -C build install >/dev/null)
  rm -rf "$work"
  [ -f "$pkglibdir/timescaledb.so" ] || { log "TimescaleDB build finished but timescaledb.so is missing"; exit 1; }
fi

# The packaged services are not used: Encosta starts private instances on its own ports.
log "ok: PostgreSQL $PGV with TimescaleDB, Mosquitto $(dpkg-query -W -f='${Version}' mosquitto)"
