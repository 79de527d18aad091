#!/bin/sh
# Removes what deploy/install.sh installed: stops and disables the service, removes the unit,
# the binary (and edge-gateway.prev) and PREFIX/share/edge-gateway.
#
#   sudo ./uninstall.sh [--prefix DIR] [--no-systemctl] [--purge]
#
# Keeps /etc/edge-gateway (config) and /var/lib/edge-gateway (the buffer: it may still hold
# acknowledged messages that Kafka has not received) unless --purge, which also removes them and
# the edge-gateway user. DESTDIR=/some/root works as for install.sh.
set -eu

NAME=edge-gateway
USER_NAME=edge-gateway
PREFIX=/usr/local
DESTDIR=${DESTDIR:-}
SYSTEMCTL=yes
PURGE=no

die() {
  echo "uninstall.sh: $*" >&2
  exit 1
}
say() {
  echo "uninstall.sh: $*"
}

while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --no-systemctl) SYSTEMCTL=no; shift ;;
    --purge) PURGE=yes; shift ;;
    -h | --help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case $PREFIX in
  /*) PREFIX=${PREFIX%/} ;;
  *) die "--prefix must be an absolute path" ;;
esac
[ -n "$DESTDIR" ] && SYSTEMCTL=no
if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo), or set DESTDIR"
fi

UNIT=$DESTDIR/etc/systemd/system/$NAME.service
if [ "$SYSTEMCTL" = yes ] && [ -e "$UNIT" ]; then
  systemctl disable --now --quiet "$NAME" || say "could not stop/disable $NAME (continuing)"
fi
rm -f "$UNIT"
if [ "$SYSTEMCTL" = yes ]; then systemctl daemon-reload; fi

rm -f "$DESTDIR$PREFIX/bin/$NAME" "$DESTDIR$PREFIX/bin/$NAME.prev" "$DESTDIR$PREFIX/bin/$NAME.new"
rm -rf "$DESTDIR$PREFIX/share/$NAME"
say "removed the service, the binary and $PREFIX/share/$NAME"

if [ "$PURGE" = yes ]; then
  rm -rf "$DESTDIR/etc/${NAME:?}" "$DESTDIR/var/lib/${NAME:?}"
  if [ -z "$DESTDIR" ] && getent passwd "$USER_NAME" >/dev/null; then
    userdel "$USER_NAME"
  fi
  say "purged /etc/$NAME, /var/lib/$NAME and the $USER_NAME user"
else
  say "kept /etc/$NAME and /var/lib/$NAME (buffer); --purge removes them"
fi
