#!/bin/sh
# new-token.sh - makes a new API token: prints the token once (it is stored nowhere) and the
# line to add to the tokens file (POLSNAP_TOKENS), which holds only the token's SHA-256.
#
#   cgi/new-token.sh NAME ROLE [EXPIRES] [NAMESPACES]
#     NAME        who the token is for (printable ASCII, no spaces; shown in /v1/auth/status)
#     ROLE        Admin, Reader or Metrics
#     EXPIRES     RFC 3339 time such as 2027-01-31T00:00:00Z, or - for none (the default)
#     NAMESPACES  optional comma list (shop,payments): the token sees only those namespaces
#
# stdout: line 1 the token, line 2 the tokens-file line; the labels go to stderr.
set -eu
LC_ALL=C
export LC_ALL
usage() { sed -n '5,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 4 ]; then usage; fi
name=$1 role=$2 expires=${3:--} namespaces=${4:-}
die() { echo "new-token.sh: $*" >&2; exit 2; }
case $name in ''|*[!!-~]*) die "NAME must be printable ASCII without spaces: $name";; esac
[ ${#name} -le 128 ] || die "NAME is longer than 128 bytes"
case $role in Admin|Reader|Metrics) ;; *) die "ROLE must be Admin, Reader or Metrics: $role";; esac
if [ "$expires" != - ] && ! printf '%s\n' "$expires" |
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$'
then
    die "EXPIRES must be an RFC 3339 time (2027-01-31T00:00:00Z) or -: $expires"
fi
if [ -n "$namespaces" ] && ! printf '%s\n' "$namespaces" |
    grep -Eq '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(,[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$'
then
    die "NAMESPACES must be a comma list of namespace names (a-z, 0-9, -): $namespaces"
fi
# 32 random bytes, URL-safe base64; the prefix lets secret scanners recognise a leaked token
token=polsnap_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
hash=$(printf '%s' "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)
case $hash in *[!0-9a-f]*|'') die "openssl dgst gave no SHA-256";; esac
[ ${#hash} -eq 64 ] || die "openssl dgst gave no SHA-256"
echo "token (shown only now; clients send it as Authorization: Bearer TOKEN):" >&2
printf '%s\n' "$token"
echo "line to add to the tokens file (re-read on change, no restart):" >&2
printf '%s %s %s %s%s\n' "$hash" "$name" "$role" "$expires" "${namespaces:+ $namespaces}"
