#!/usr/bin/env bash
# Development keys for docker-compose.yml: the RSA pair whose public half verifies JWTs
# (sign tokens with the private half), and the voting service's voter-token signing key.
# Production: use the identity provider's key (or WSIS_JWT_JWKS_URL) and a key from your vault.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir"
[ -f "$dir/jwt-private.pem" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/jwt-private.pem"
openssl pkey -in "$dir/jwt-private.pem" -pubout -out "$dir/jwt-public.pem"
[ -f "$dir/voter-token-private.pem" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/voter-token-private.pem"
chmod 0644 "$dir"/*.pem  # read by the containers' non-root user (uid 10001)
echo "keys in $dir"
