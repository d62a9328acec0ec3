#!/usr/bin/env bash
# Synthesises a small corpus in the Google Speech Commands layout:
#   OUT/<word>/<speaker>_nohash_<n>.wav   1 s, 16 kHz, mono, 16-bit
#   OUT/_background_noise_/*.wav          30 s of white, pink and brown noise
#   OUT/validation_list.txt, OUT/testing_list.txt
# with the ten keywords of the kw12 task and ten "unknown" words, spoken by
# several espeak-ng voices at several speeds and pitches.
#
# usage: scripts/make-speech-corpus.sh OUT [SPEAKERS]   (default 12 speakers)
#
# With --full (or --held-out) it makes instead a corpus laid out like Speech
# Commands v0.02 (the 35 words, hundreds of voices, six background-noise
# files): see scripts/make-speech-corpus-full.sh.
#   scripts/make-speech-corpus.sh --full OUT [SPEAKERS]      (default 250)
#   scripts/make-speech-corpus.sh --held-out OUT [SPEAKERS]  (default 40)
set -euo pipefail
case ${1:-} in
  --full | --held-out) exec "$(dirname "$0")/make-speech-corpus-full.sh" "$@" ;;
esac
out=${1:?usage: make-speech-corpus.sh OUT [SPEAKERS]}
speakers=${2:-12}
"$(dirname "$0")/install-deps.sh" speech

keywords="yes no up down left right on off stop go"
unknown="bed bird cat dog happy house marvin sheila tree wow"
voices=(en en-us en-gb-x-rp en+m3 en-us+f2 en+f4 en-gb-scotland en+m7 en-us+f3 en+klatt2 en-gb+m1 en-us+klatt)

mkdir -p "$out/_background_noise_"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for kind in white pink brown; do
  sox -V1 -R -n -r 16000 -b 16 -c 1 "$out/_background_noise_/${kind}_noise.wav" synth 30 "${kind}noise" vol 0.3
done

: > "$out/validation_list.txt"
: > "$out/testing_list.txt"
for s in $(seq 0 $((speakers - 1))); do
  voice=${voices[$((s % ${#voices[@]}))]}
  speed=$((130 + (s * 23) % 70))   # words per minute, 130…199
  pitch=$((25 + (s * 17) % 50))    # 25…74
  speaker=$(printf '%08x' $(( (s + 1) * 2654435761 % 4294967296 )))
  for word in $keywords $unknown; do
    mkdir -p "$out/$word"
    f="$word/${speaker}_nohash_0.wav"
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$tmp/raw.wav" "$word"
    # 16 kHz mono 16-bit, starting 0.1 s in, mixed with 1 s of faint noise
    # (so that no two clips are identical) and cut to exactly 1 s.
    sox -V1 -R "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$tmp/pad.wav" pad 0.1
    sox -V1 -R -n -r 16000 -c 1 -b 16 "$tmp/noise.wav" synth 1 whitenoise vol 0.003
    sox -V1 -R -m "$tmp/pad.wav" "$tmp/noise.wav" -b 16 "$out/$f" trim 0 1
    # Every fifth speaker validates, every fifth (shifted) tests.
    case $((s % 5)) in
      3) echo "$f" >> "$out/validation_list.txt" ;;
      4) echo "$f" >> "$out/testing_list.txt" ;;
    esac
  done
done
echo "wrote $(find "$out" -name '*.wav' | wc -l) clips to $out" >&2
