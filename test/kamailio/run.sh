#!/bin/bash
# Manual run of the project's Kamailio: fills kamailio.cfg and runs it in the foreground.
# usage: test/kamailio/run.sh <listen-port> <pf-port> [pf-domain] [ims-domain]
set -euo pipefail
PORT=${1:?listen port}; PF_PORT=${2:?pf port}; PF_DOMAIN=${3:-cpm-pf.example.net}; IMS_DOMAIN=${4:-ims.example.net}
HERE=$(cd "$(dirname "$0")" && pwd)
MPATH=$(dirname "$(ls /usr/lib/*/kamailio/modules/tm.so /usr/lib/kamailio/modules/tm.so 2>/dev/null | head -1)")/
CFG=$(mktemp --suffix=.cfg)
sed -e "s|@PORT@|$PORT|g" -e "s|@PF_PORT@|$PF_PORT|g" -e "s|@PF_DOMAIN@|$PF_DOMAIN|g" -e "s|@IMS_DOMAIN@|$IMS_DOMAIN|g" -e "s|@MPATH@|$MPATH|g" "$HERE/kamailio.cfg" > "$CFG"
KAMAILIO=$(command -v kamailio || echo /usr/sbin/kamailio)
exec "$KAMAILIO" -f "$CFG" -DD -E -m 64 -M 8
