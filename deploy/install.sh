#!/bin/sh
# Installs, upgrades or rolls back edge-gateway on Raspberry Pi OS / Debian (64-bit: arm64 or x64).
#
#   sudo ./install.sh [--binary FILE]        install or upgrade, enable and start the service
#   sudo ./install.sh --upgrade [--binary F] upgrade an existing install (restarts the service)
#   sudo ./install.sh --rollback             swap back to the previous binary (edge-gateway.prev)
#
# Options: --prefix DIR (default /usr/local), --no-systemctl (do not touch systemd),
# --no-start (enable but do not start), --skip-version-check (do not run the binary first, e.g.
# when installing into an image of another arch). DESTDIR=/some/root installs into that tree
# instead of / (no user is created and systemctl is not run): for packaging and tests.
#
# Idempotent: running it again with the same binary changes nothing. An existing
# /etc/edge-gateway/config.yaml is never overwritten; the current example is installed to
# PREFIX/share/edge-gateway/config.example.yaml for comparison. Installing a different binary
# keeps the one it replaces as PREFIX/bin/edge-gateway.prev for --rollback.
set -eu

NAME=edge-gateway
USER_NAME=edge-gateway
PREFIX=/usr/local
DESTDIR=${DESTDIR:-}
BINARY=
MODE=install
SYSTEMCTL=yes
START=yes
VERSION_CHECK=yes
SCRIPT_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

die() {
  echo "install.sh: $*" >&2
  exit 1
}
say() {
  echo "install.sh: $*"
}
usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

while [ $# -gt 0 ]; do
  case $1 in
    --binary) [ $# -ge 2 ] || die "--binary needs a file"; BINARY=$2; shift 2 ;;
    --binary=*) BINARY=${1#*=}; shift ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --upgrade) MODE=upgrade; shift ;;
    --rollback) MODE=rollback; shift ;;
    --no-systemctl) SYSTEMCTL=no; shift ;;
    --no-start) START=no; shift ;;
    --skip-version-check) VERSION_CHECK=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case $PREFIX in
  /*) PREFIX=${PREFIX%/} ;;
  *) die "--prefix must be an absolute path" ;;
esac
case $PREFIX in *'|'*) die "--prefix must not contain '|'" ;; esac
[ -n "$DESTDIR" ] && SYSTEMCTL=no
if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo), or set DESTDIR to install into a directory tree"
fi

BIN_DIR=$DESTDIR$PREFIX/bin
BIN=$BIN_DIR/$NAME
PREV=$BIN.prev
SHARE_DIR=$DESTDIR$PREFIX/share/$NAME
CONF_DIR=$DESTDIR/etc/$NAME
CONF=$CONF_DIR/config.yaml
STATE_DIR=$DESTDIR/var/lib/$NAME
UNIT_DIR=$DESTDIR/etc/systemd/system
UNIT=$UNIT_DIR/$NAME.service

restart_service() {
  [ "$SYSTEMCTL" = yes ] || return 0
  if systemctl is-active --quiet "$NAME"; then
    say "restarting $NAME"
    systemctl restart "$NAME"
  elif [ "$START" = yes ]; then
    say "starting $NAME"
    systemctl start "$NAME"
  fi
}

if [ "$MODE" = rollback ]; then
  [ -e "$PREV" ] || die "no previous binary at $PREV to roll back to"
  # Swap, so a second --rollback returns to the newer binary.
  mv -f "$BIN" "$BIN.rollback"
  mv -f "$PREV" "$BIN"
  mv -f "$BIN.rollback" "$PREV"
  say "rolled back: $BIN is the previous binary again (the replaced one is $PREV)"
  restart_service
  exit 0
fi

if [ "$MODE" = upgrade ] && [ ! -e "$BIN" ]; then
  die "--upgrade: $NAME is not installed at $BIN (run without --upgrade to install)"
fi

# --- the binary ------------------------------------------------------------------------------
if [ -z "$BINARY" ]; then
  case $(uname -m) in
    aarch64 | arm64) ARCH=arm64 ;;
    x86_64 | amd64) ARCH=x64 ;;
    *) die "unsupported machine $(uname -m): edge-gateway needs a 64-bit OS (arm64 or x64); on a Raspberry Pi install the 64-bit Raspberry Pi OS" ;;
  esac
  for candidate in "$SCRIPT_DIR/$NAME-linux-$ARCH" "$SCRIPT_DIR/../dist/$NAME-linux-$ARCH"; do
    if [ -f "$candidate" ]; then
      BINARY=$candidate
      break
    fi
  done
  [ -n "$BINARY" ] || die "no $NAME-linux-$ARCH next to this script or in ../dist: pass --binary FILE"
fi
[ -f "$BINARY" ] || die "binary $BINARY not found"

if [ "$VERSION_CHECK" = yes ]; then
  # Proves the file runs here (arch, glibc) before it replaces a working one. The embedded
  # SQLite addon is written to a scratch directory, not to a shared one as root.
  check_dir=$(mktemp -d)
  if ! version=$(EDGE_GATEWAY_NATIVE_DIR=$check_dir/native "$BINARY" --version 2>&1); then
    rm -rf "$check_dir"
    die "$BINARY does not run on this machine: $version"
  fi
  rm -rf "$check_dir"
  say "binary: $version"
fi

install -d -m 0755 "$BIN_DIR"
if [ -e "$BIN" ] && cmp -s "$BINARY" "$BIN"; then
  BINARY_CHANGED=no
  say "$BIN is already this binary"
else
  if [ -e "$BIN" ]; then
    cp -p "$BIN" "$PREV.tmp"
    mv -f "$PREV.tmp" "$PREV"
    say "kept the previous binary as $PREV (install.sh --rollback)"
  fi
  # Copy then rename: the running service keeps its old file, and a partial copy is never run.
  install -m 0755 "$BINARY" "$BIN.new"
  mv -f "$BIN.new" "$BIN"
  BINARY_CHANGED=yes
  say "installed $BIN"
fi

# --- user, directories, config ---------------------------------------------------------------
if [ -z "$DESTDIR" ]; then
  if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --user-group --home-dir "/var/lib/$NAME" --no-create-home \
      --shell /usr/sbin/nologin --comment "edge-gateway service" "$USER_NAME"
    say "created system user $USER_NAME"
  fi
  install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$STATE_DIR"
else
  install -d -m 0750 "$STATE_DIR"
fi
install -d -m 0755 "$CONF_DIR" "$SHARE_DIR"
install -m 0644 "$SCRIPT_DIR/config.example.yaml" "$SHARE_DIR/config.example.yaml"
install -m 0644 "$SCRIPT_DIR/README.md" "$SHARE_DIR/README.md"
if [ -e "$CONF" ]; then
  say "kept $CONF (the current example is $SHARE_DIR/config.example.yaml)"
else
  # The config may hold a SASL password: readable by root and the service's group only.
  install -m 0640 "$SCRIPT_DIR/config.example.yaml" "$CONF"
  if [ -z "$DESTDIR" ]; then chgrp "$USER_NAME" "$CONF"; fi
  say "wrote $CONF: set kafka.brokers (and gatewayId) there"
fi

# --- systemd unit ----------------------------------------------------------------------------
install -d -m 0755 "$UNIT_DIR"
unit_tmp=$(mktemp)
trap 'rm -f "$unit_tmp"' EXIT
sed "s|/usr/local/|$PREFIX/|g" "$SCRIPT_DIR/systemd/$NAME.service" >"$unit_tmp"
if [ -e "$UNIT" ] && cmp -s "$unit_tmp" "$UNIT"; then
  UNIT_CHANGED=no
else
  install -m 0644 "$unit_tmp" "$UNIT"
  UNIT_CHANGED=yes
  say "installed $UNIT"
fi

if [ "$SYSTEMCTL" = yes ]; then
  if [ "$UNIT_CHANGED" = yes ]; then systemctl daemon-reload; fi
  systemctl enable --quiet "$NAME"
  if [ "$BINARY_CHANGED" = yes ] || [ "$UNIT_CHANGED" = yes ] || [ "$MODE" = upgrade ]; then
    restart_service
  elif [ "$START" = yes ] && ! systemctl is-active --quiet "$NAME"; then
    restart_service
  fi
  say "status: systemctl status $NAME; logs: journalctl -u $NAME -f"
else
  say "systemctl not run: enable with 'systemctl daemon-reload && systemctl enable --now $NAME'"
fi
