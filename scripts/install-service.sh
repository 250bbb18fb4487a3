#!/bin/sh
# Installs the fpprof daemon as a systemd service: builds fpprof (release), installs the binary to
# /usr/local/bin, the unit to /etc/systemd/system, the example config to /etc/fpprof/fpprof.toml (an existing one
# is kept), and makes the `fpprof` system user. Then: edit /etc/fpprof/fpprof.toml, `systemctl enable --now fpprof`.
# Run as root from the repository. PREFIX and DESTDIR change where things go (DESTDIR for packaging).
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}

swift build -c release --product fpprof
install -D -m 0755 "$(swift build -c release --show-bin-path)/fpprof" "$DESTDIR$PREFIX/bin/fpprof"
sed "s|/usr/local/bin/fpprof|$PREFIX/bin/fpprof|g" systemd/fpprof.service > /tmp/fpprof.service.$$
install -D -m 0644 /tmp/fpprof.service.$$ "$DESTDIR/etc/systemd/system/fpprof.service"
rm -f /tmp/fpprof.service.$$
install -D -m 0644 README.md "$DESTDIR$PREFIX/share/doc/fpprof/README.md"
if [ ! -e "$DESTDIR/etc/fpprof/fpprof.toml" ]; then
    install -D -m 0644 config/fpprof.toml "$DESTDIR/etc/fpprof/fpprof.toml"
fi
"$DESTDIR$PREFIX/bin/fpprof" daemon --check-config "$DESTDIR/etc/fpprof/fpprof.toml"

if [ -z "$DESTDIR" ]; then
    getent passwd fpprof >/dev/null || useradd --system --no-create-home --home-dir /var/lib/fpprof \
        --shell /usr/sbin/nologin fpprof
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        echo "installed; start with: systemctl enable --now fpprof"
    else
        echo "installed; systemd is not running here, so the unit was not loaded"
    fi
fi
