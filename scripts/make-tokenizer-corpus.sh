#!/usr/bin/env bash
# Writes a mixed benchmark text for the tokenizer benchmark (code, English prose, CJK and
# Cyrillic) from files every Debian machine has, plus this repository's Swift sources.
# Usage: scripts/make-tokenizer-corpus.sh [OUT] (default /tmp/peregrine-tokenizer-corpus.txt)
set -euo pipefail
out=${1:-/tmp/peregrine-tokenizer-corpus.txt}
repo=$(cd "$(dirname "$0")/.." && pwd)
{
  find "$repo/Sources" -name '*.swift' -o -name '*.c' -o -name '*.h' | sort | xargs cat
  cat /usr/share/common-licenses/{Apache-2.0,GPL-3,LGPL-2.1,MPL-2.0,Artistic,GFDL-1.3}
  for lang in ja ko ru zh_CN zh_TW; do
    [ -d /usr/share/man/$lang ] && find /usr/share/man/$lang -name '*.gz' | sort | head -200 | xargs -r zcat 2>/dev/null || true
  done
} > "$out"
python3 - "$out" <<'PY'
import sys
text = open(sys.argv[1], 'rb').read().decode('utf-8', errors='replace')
cjk = sum(1 for c in text if '\u3000' <= c <= '\u9fff' or '\uac00' <= c <= '\ud7af')
print(f"{sys.argv[1]}: {len(text.encode())/1e6:.1f} MB, {len(text)} characters, {cjk} CJK/Hangul")
open(sys.argv[1], 'w').write(text)
PY
