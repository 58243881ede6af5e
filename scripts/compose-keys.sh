#!/usr/bin/env bash
# The RS256 key pair the compose stack's service verifies with and the suite signs with.
set -euo pipefail
cd "$(dirname "$0")/../compose"
mkdir -p keys
if [ ! -f keys/jwt_private.pem ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out keys/jwt_private.pem 2>/dev/null
    openssl pkey -in keys/jwt_private.pem -pubout -out keys/jwt_public.pem
    chmod 644 keys/jwt_public.pem
fi
if [ ! -f keys/webhook_token ]; then
    openssl rand -hex 32 > keys/webhook_token
    chmod 644 keys/webhook_token
fi
echo "compose/keys/jwt_private.pem, jwt_public.pem and webhook_token are ready"
