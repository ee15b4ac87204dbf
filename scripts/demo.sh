#!/usr/bin/env bash
# Runs the settling server with a demo merchant and a test card on embedded
# SQLite, and prints the commands that complete a settlement.
#   ./scripts/demo.sh            (Ctrl-C stops it; data stays in ./demo-data)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
need_command curl curl

LISTEN=${KESSAI_LISTEN:-127.0.0.1:8080}
DATA=${KESSAI_DEMO_DIR:-$PWD/demo-data}
DB="sqlite://$DATA/kessai.db"
mkdir -p "$DATA"

cargo build --release -q -p kessai-server
KESSAI="$PWD/target/release/kessai"

# A field of the one-line JSON the admin commands print (no jq needed).
field() { sed -E "s/.*\"$1\":\"?([^\",}]*)\"?.*/\1/" <<<"$2"; }

if [ ! -s "$DATA/merchant.json" ]; then
    "$KESSAI" merchant create --name "Demo Shop" --origin http://127.0.0.1:3000 --database "$DB" >"$DATA/merchant.json"
    "$KESSAI" card issue --brand kessai-card --holder "Demo Buyer" --balance 1000000 --currency JPY --database "$DB" >"$DATA/card.json"
fi
MERCHANT=$(cat "$DATA/merchant.json")
CARD=$(cat "$DATA/card.json")
SK=$(field secret_key "$MERCHANT")
NUMBER=$(field card_number "$CARD")
EXP_MONTH=$(field exp_month "$CARD")
EXP_YEAR=$(field exp_year "$CARD")
CVC=$(field cvc "$CARD")
URL="http://$LISTEN"

cat <<MSG

Kessai settling server: $URL   (API reference: $URL/openapi.json)
Demo merchant:  $(field merchant_id "$MERCHANT")   secret key in $DATA/merchant.json
Test card:      $NUMBER  exp $EXP_MONTH/$EXP_YEAR  CVC $CVC  (1,000,000 JPY)

Complete a settlement from another terminal (paste all of it):

ORDER_ID=demo-\$(date +%s)
ORDER='{"order_id":"'\$ORDER_ID'","currency":"JPY","items":[{"code":"XXXX","name":"Peanut butter","unit_price":500,"quantity":1},{"code":"YYYY","name":"Grape jelly","unit_price":600,"quantity":1}],"tax":55,"total":1155}'
# 1. The shop's first request (server to server, with the secret key):
FIRST=\$(curl -s $URL/v1/settlements -H 'Authorization: Bearer $SK' -d '{"order":'"\$ORDER"'}'); echo "\$FIRST"
ID=\$(echo "\$FIRST" | sed -E 's/.*"id":"([^"]+)".*/\1/')
SECRET=\$(echo "\$FIRST" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
# 2. The buyer's second request (browser to settling server, with the card):
curl -s $URL/v1/payer/settlements/\$ID/confirm -d '{"client_secret":"'\$SECRET'","order":'"\$ORDER"',"payment_method":{"type":"card","card":{"number":"$NUMBER","exp_month":$EXP_MONTH,"exp_year":$EXP_YEAR,"cvc":"$CVC"}}}'; echo
# 3. The shop polls the result:
curl -s $URL/v1/settlements/\$ID -H 'Authorization: Bearer $SK'; echo
# 4. The ledger's invariants:
$KESSAI ledger check --database $DB

MSG
exec "$KESSAI" serve --listen "$LISTEN" --database "$DB"
