#!/usr/bin/env bash
# A renter's session with calor-api over curl, as README.md shows it: sign in with a wallet,
# quote and open a job, watch it run, open its web terminal, stop it and read its settlement. `calor-dev` stands in
# for the browser wallet (it signs the sign-in message and the transactions the API builds);
# the API never sees the key. Needs a running stack (bash scripts/demo.sh --serve).
set -euo pipefail
API=${API:-http://127.0.0.1:8080}
WALLET=${WALLET:-.calor/keys/renter-api.json}
dev=${CALOR_DEV:-calor-dev}
"$dev" fund "$WALLET" >/dev/null
# Local chain only: a live Pyth feed is always fresh, the local one is published now (the demo
# moved the local clock), and the API re-reads prices every second.
"$dev" keep-price && sleep 1.5

# 1. Sign in: the API's challenge, signed by the wallet, exchanged for a bearer token.
curl -s --fail-with-body -X POST "$API/api/auth/challenge" | "$dev" sign-in "$WALLET" > .calor/verify.json
TOKEN=$(curl -s --fail-with-body -X POST "$API/api/auth/verify" -H 'content-type: application/json' \
  -d @.calor/verify.json | jq -r .accessToken)
auth=(-H "authorization: Bearer $TOKEN")

# 2. The catalog (once a node of GPU model 1 is idle: after the demo moved the local clock,
#    the next heartbeat brings it back), then a quote and the unsigned transaction for 3 hours.
for _ in $(seq 1 60); do
  [[ $(curl -s --fail-with-body "$API/api/gpus" | jq '.models[0].idleNodes') -gt 0 ]] && break
  sleep 1
done
curl -s --fail-with-body "$API/api/gpus" | jq -c '.models[0] | {name, idleNodes, rate: .rate.marketUsdPerHour}'
curl -s --fail-with-body -X POST "$API/api/jobs" "${auth[@]}" -H 'content-type: application/json' \
  -d '{"gpu": 1, "region": 1, "hours": 3, "payment": "sol"}' > .calor/job.json
jq -c '.quote | {paidUsd, minimumUsd, amount, unit, refundableRentLamports, networkFeeLamports}' .calor/job.json
RENTAL=$(jq -r .rental .calor/job.json)

# 3. The wallet signs; the API relays (or the wallet sends it itself).
"$dev" sign "$WALLET" < .calor/job.json \
  | curl -s --fail-with-body -X POST "$API/api/tx" -H 'content-type: application/json' -d @- | jq -c .

# 4. Watch it: once indexed, its event stream until it runs (stops at `started`).
until curl -s --fail-with-body "$API/api/jobs/$RENTAL" "${auth[@]}" >/dev/null; do sleep 0.2; done
curl -sN --fail-with-body --max-time 120 "$API/api/jobs/$RENTAL/events" "${auth[@]}" \
  | while read -r line; do
      echo "$line"
      [[ "$line" == "event: started" ]] && break
    done || true
curl -s --fail-with-body "$API/api/jobs/$RENTAL" "${auth[@]}" | jq -c '{state, connect}'

# 5. Connect with no SSH key: the web terminal. The API builds the message, the wallet signs
#    it, the provider's provisioner checks it against the rental's renter on chain and opens a
#    shell. (`calor-dev terminal` does the three steps; the browser does the same.)
curl -s --fail-with-body -X POST "$API/api/jobs/$RENTAL/access" "${auth[@]}" \
  -H 'content-type: application/json' -d '{"action": "terminal"}' | jq -c '{url, expiresAt}'
ENDPOINT=$(curl -s --fail-with-body "$API/api/jobs/$RENTAL" "${auth[@]}" | jq -r .connect.accessEndpoint)
"$dev" terminal "$WALLET" "$ENDPOINT" "$RENTAL" --run 'echo "$(hostname): $(nproc) CPUs, $(pwd)"; python3 --version'
echo "open this terminal yourself: $dev terminal $WALLET $ENDPOINT $RENTAL"
echo "Jupyter (URL with its secret): $dev jupyter $WALLET $ENDPOINT $RENTAL"

# 6. Stop: the API builds complete + settle; the wallet signs; then the settled job.
curl -s --fail-with-body -X DELETE "$API/api/jobs/$RENTAL" "${auth[@]}" > .calor/stop.json
"$dev" sign "$WALLET" < .calor/stop.json \
  | curl -s --fail-with-body -X POST "$API/api/tx" -H 'content-type: application/json' -d @- | jq -c .
for _ in $(seq 1 100); do
  settled=$(curl -s --fail-with-body "$API/api/jobs/$RENTAL" "${auth[@]}" | jq -r .settled)
  [[ "$settled" == true ]] && break
  sleep 0.2
done
curl -s --fail-with-body "$API/api/jobs/$RENTAL" "${auth[@]}" \
  | jq -c '{state, settled, servedSecs, cost, timeline: [.timeline[] | {kind, signature}]}'
