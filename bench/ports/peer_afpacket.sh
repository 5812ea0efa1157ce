#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The peer of pktgen_oneway.sh: /work/shared/peerbench/e_afpacket.sh as it
# is, but with testpmd sending SIZE-byte frames (it hard-codes --txpkts=64).
# usage: peer_afpacket.sh [SIZE] [af_packet devargs]      env: PEERBENCH (dir)
set -eu
SIZE=${1:-64}; shift || true
PB=${PEERBENCH:-/work/shared/peerbench}
bash <(sed -e "s|source \"\$(dirname \"\$0\")/lib.sh\"|source \"$PB/lib.sh\"|" \
	-e "s|--txpkts=64|--txpkts=$SIZE|" "$PB/e_afpacket.sh") "$@"
