#!/usr/bin/env bash
# Packages the web wallet as a Chromium extension (manifest v3) into
# target/wallet-extension/, the unpacked extension to load (chrome://extensions,
# "Load unpacked", or --load-extension=DIR):
#   manifest.json, service-worker.js, page-bridge.js, content.js, icons/
#                         from web-wallet/extension/
#   wallet/               the wallet's Trunk build (target/wallet/), its
#                         inline boot script moved to wallet/boot.js (MV3
#                         allows no inline script) and wallet/host.js (the
#                         seam, window.kessaiWalletHost) loaded before it
#   ./scripts/build-extension.sh [--wallet-dir DIR]
# The wallet build is $CARGO_TARGET_DIR/wallet or target/wallet unless
# --wallet-dir names one; when there is none, ./scripts/build-wallet.sh makes
# it. Running it again rebuilds the package from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

fail() {
    echo "build-extension: $*" >&2
    exit 1
}

TARGET="${CARGO_TARGET_DIR:-target}"
SRC=web-wallet/extension
OUT="$TARGET/wallet-extension"
WALLET=""

while [ $# -gt 0 ]; do
    case "$1" in
        --wallet-dir)
            [ $# -ge 2 ] || fail "--wallet-dir needs a directory"
            WALLET="$2"
            shift 2
            ;;
        *) fail "unknown argument $1 (usage: $0 [--wallet-dir DIR])" ;;
    esac
done

find_wallet() {
    for dir in "$TARGET/wallet" target/wallet; do
        if [ -f "$dir/index.html" ]; then
            echo "$dir"
            return
        fi
    done
}

if [ -z "$WALLET" ]; then
    WALLET=$(find_wallet)
fi
if [ -z "$WALLET" ]; then
    [ -x scripts/build-wallet.sh ] ||
        fail "the web wallet is not built ($TARGET/wallet/index.html is missing) and there is no scripts/build-wallet.sh to build it"
    echo "build-extension: the web wallet is not built; running ./scripts/build-wallet.sh" >&2
    ./scripts/build-wallet.sh
    WALLET=$(find_wallet)
    [ -n "$WALLET" ] || fail "./scripts/build-wallet.sh ran but wrote no $TARGET/wallet/index.html"
fi
[ -f "$WALLET/index.html" ] || fail "$WALLET has no index.html: is it the wallet's Trunk build?"
for name in boot.js host.js; do
    [ ! -e "$WALLET/$name" ] || fail "the wallet build has its own $name, which the package would overwrite"
done

# Built next to the output and moved into place at the end, so that a
# failure leaves the previous package, never half of a new one.
STAGE="$OUT.partial"
rm -rf "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"
cp "$SRC/manifest.json" "$SRC/service-worker.js" "$SRC/page-bridge.js" "$SRC/content.js" "$STAGE/"
cp -r "$SRC/icons" "$STAGE/icons"
cp -r "$WALLET" "$STAGE/wallet"
cp "$SRC/host.js" "$STAGE/wallet/host.js"

# Rewrites wallet/index.html: each inline <script> becomes a file
# (boot.js, boot-2.js, …) referenced with src, host.js is loaded before the
# first script, and every root-absolute path ("/x") must name a file of the
# package, since the page's root is the extension's root.
perl - "$STAGE" <<'PERL' || fail "could not adapt the wallet's index.html (see above)"
use strict;
use warnings;
use JSON::PP;

my $root = shift;
my $page = "$root/wallet/index.html";

sub slurp { my ($path) = @_; open(my $f, '<', $path) or die "$path: $!\n"; local $/; return <$f>; }
sub spit { my ($path, $text) = @_; open(my $f, '>', $path) or die "$path: $!\n"; print $f $text; close($f) or die "$path: $!\n"; }

my $html = slurp($page);
my $count = 0;
$html =~ s{<script\b([^>]*)>(.*?)</script>}{
    my ($attrs, $body) = ($1, $2);
    if ($attrs =~ /\bsrc\s*=/i || $body !~ /\S/) {
        "<script$attrs>$body</script>";
    } else {
        $count++;
        my $file = $count == 1 ? "boot.js" : "boot-$count.js";
        spit("$root/wallet/$file", $body);
        # A nonce or integrity made for the inline text means nothing for a file.
        $attrs =~ s/\s+(?:nonce|integrity)\s*=\s*("[^"]*"|'[^']*'|\S+)//gi;
        qq{<script$attrs src="$file"></script>};
    }
}gsie;
die "wallet/index.html has no inline boot script: is it Trunk's output?\n" if $count == 0;
$html =~ s{<script\b}{<script src="host.js"></script>\n<script}i
    or die "wallet/index.html has no <script>\n";
die "wallet/index.html still has an inline event handler (on...=), which MV3 forbids\n"
    if $html =~ /<[^>]*\son[a-z]+\s*=/i;
spit($page, $html);

my @texts = ($html, map { slurp($_) } glob("$root/wallet/boot*.js"));
for my $text (@texts) {
    while ($text =~ m{(?:src|href)\s*=\s*["']/(?!/)([^"'?#]*)|(?:import|from|module_or_path:)\s*\(?\s*["']/(?!/)([^"'?#]*)}g) {
        my $path = defined $1 ? $1 : $2;
        die "the wallet refers to /$path, which is not in the package: build it with a public URL of "
          . "/wallet/ or ./ (Trunk's --public-url)\n" unless -f "$root/$path";
    }
}

my $manifest = decode_json(slurp("$root/manifest.json"));
my @named = ($manifest->{background}{service_worker}, $manifest->{action}{default_popup},
    values %{ $manifest->{icons} }, map { @{ $_->{js} } } @{ $manifest->{content_scripts} });
for my $file (@named) {
    die "manifest.json names $file, which is not in the package\n" unless -f "$root/$file";
}
PERL

rm -rf "$OUT"
mv "$STAGE" "$OUT"
echo "build-extension: $OUT (wallet from $WALLET); load it unpacked in Chromium" >&2
