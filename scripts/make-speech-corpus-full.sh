#!/usr/bin/env bash
# Synthesises a corpus laid out like Google Speech Commands v0.02 with
# espeak-ng and sox (scripts/make-speech-corpus.sh --full calls this):
#
#   OUT/<word>/<speaker>_nohash_<n>.wav  1 s, 16 kHz, mono, PCM16: the 35
#       words of v0.02, each speaker saying every word once (n = 0) and the
#       20 core words (the ten kw12 keywords and the digits) a second time
#       (n = 1), a little faster or slower, higher or lower, as the
#       dataset's core words also have about twice the clips of the others;
#       the word starts after a random lead-in of 0.01-0.3 s, at a random
#       level, over faint white, pink or brown noise at a random level (a
#       word longer than 0.95 s is first sped up to 0.9 s).
#   OUT/_background_noise_/*.wav  six recordings like the dataset's:
#       white_noise, pink_noise, brown_noise, running_tap, exercise_bike
#       (61 s each) and doing_the_dishes (95 s), with a README.md.
#   OUT/validation_list.txt, OUT/testing_list.txt  the list split, by
#       speaker: speakers 8, 18, 28, ... validate, 9, 19, 29, ... test (10 %
#       each); the hash split of SPEC §9 also keeps a speaker's clips
#       together (it hashes the name without _nohash_).
#   OUT/speakers.tsv  each speaker's id, voice, speed, pitch, level, split.
#   OUT/README.md     how the corpus was made and its counts.
#
# A speaker is an espeak-ng voice, i.e. an English accent (BASES) with a
# variant (VARIANTS, or none), a speed (120-220 words per minute), a pitch
# (10-90 of espeak-ng's 0-99) and a peak level (-1 to -15 dBFS). Speaker s
# takes voice number s * 263 mod (number of voices), so up to that number
# of speakers no two share a voice. The speaker id is the first 8 hex
# digits of the SHA-1 of the speaker's description.
#
# Held-out voices: HELD_OUT_BASES and HELD_OUT_VARIANTS never occur in the
# --full corpus. --held-out makes a corpus in the same layout from the
# voices that contain at least one of them (a held-out accent with any
# variant, or any other accent with a held-out variant), so none of its
# voices was heard in --full; it is for evaluating on unseen voices.
#
# usage: scripts/make-speech-corpus-full.sh --full OUT [SPEAKERS]      (default 250)
#        scripts/make-speech-corpus-full.sh --held-out OUT [SPEAKERS]  (default 40)
# environment: JOBS (parallel jobs, default the number of cores), SEED
# (default 1). The output is the same for the same arguments, SEED and
# espeak-ng/sox versions, whatever JOBS. OUT must not exist: the corpus is
# built in OUT.partial-<pid> and renamed to OUT when it is complete, so two
# runs never write into the same folder. --full with 250 speakers writes
# 13,750 clips (≈ 450 MB).
set -euo pipefail
self=$(readlink -f "$0")

WORDS35="yes no up down left right on off stop go zero one two three four five six seven eight nine bed bird cat dog happy house marvin sheila tree wow backward forward follow learn visual"
CORE20="yes no up down left right on off stop go zero one two three four five six seven eight nine"
BASES="en en-us en-gb-scotland en-gb-x-gbclan en-gb-x-rp en-gb-x-gbcwmd en-us-nyc en-029"
# espeak-ng --voices=variant, by file name (espeak-ng 1.51), without
# "Mr serious" (a space in its name), fast (the plain voice), caleb and
# klatt6 (the same output as klatt).
VARIANTS="adam Alex Alicia Andrea Andy anika anikaRobot Annie announcer antonio AnxiousAndy aunty belinda benjamin boris croak david Demonic Denis Diogo ed edward edward2 f1 f2 f3 f4 f5 Gene Gene2 grandma grandpa gustave Henrique Hugo iven iven2 iven3 iven4 Jacky john kaukovalta klatt klatt2 klatt3 klatt4 klatt5 Lee linda m1 m2 m3 m4 m5 m6 m7 m8 marcelo Marco Mario max Michael michel miguel Mike Nguyen norbert pablo paul pedro quincy RicishayMax RicishayMax2 RicishayMax3 rob robert robosoft robosoft2 robosoft3 robosoft4 robosoft5 robosoft6 robosoft7 robosoft8 sandro shelby steph steph2 steph3 Storm travis Tweaky UniRobot victor whisper whisperf zac"
HELD_OUT_BASES="en-029"
HELD_OUT_VARIANTS="f3 m4 klatt3 Annie Gene2 iven3 robert steph2 whisper Jacky"
STRIDE=263        # coprime with the number of voices of either mode
SEED=${SEED:-1}

held() { [[ " $2 " == *" $1 "* ]]; }

# The voices of a mode, one per line: "base" or "base+variant".
voices() {
  local b v
  for b in $BASES; do
    for v in "" $VARIANTS; do
      if held "$b" "$HELD_OUT_BASES" || { [ -n "$v" ] && held "$v" "$HELD_OUT_VARIANTS"; }; then
        [ "$1" = held-out ] || continue
      else
        [ "$1" = full ] || continue
      fi
      echo "$b${v:++$v}"
    done
  done
}

# r N: R = a pseudo-random integer in [0, N) from bash's seeded RANDOM (not
# in a subshell: a subshell's draws would not advance the sequence).
r() { R=$(( (RANDOM * 32768 + RANDOM) % $1 )); }

# One speaker's clips, written by a job of its own (self-invoked by xargs).
speaker() {
  local mode=$1 s=$2 work=$GSC_WORK
  mapfile -t vs < <(voices "$mode")
  local voice=${vs[$(( s * STRIDE % ${#vs[@]} ))]}
  local salt=0 R
  [ "$mode" = held-out ] && salt=1
  RANDOM=$(( SEED * 1000003 + s * 2 + salt ))
  r 101; local speed=$(( 120 + R ))
  r 81; local pitch=$(( 10 + R ))
  r 15; local level=$(( 1 + R ))
  local id split=training
  id=$(printf '%s|%s|%s|%s|%s|%s|%s' "$mode" "$SEED" "$s" "$voice" "$speed" "$pitch" "$level" | sha1sum | cut -c1-8)
  case $(( s % 10 )) in 8) split=validation ;; 9) split=testing ;; esac
  local t word n reps sp p len room lead bank off gain
  t=$(mktemp -d "$work/tmp/$s.XXXXXX")
  for word in $WORDS35; do
    reps=1
    held "$word" "$CORE20" && reps=2
    for ((n = 0; n < reps; n++)); do
      sp=$speed p=$pitch
      if ((n > 0)); then
        r 31; sp=$(( speed - 15 + R ))
        r 21; p=$(( pitch - 10 + R ))
        ((p < 0)) && p=0
        ((p > 99)) && p=99
      fi
      espeak-ng -v "$voice" -s "$sp" -p "$p" -w "$t/raw.wav" "$word"
      # Cut the silence espeak-ng puts around the word, set its peak level
      # (after the resampling, which would otherwise overshoot it).
      sox -R -V1 "$t/raw.wav" -r 16000 -c 1 -b 16 "$t/word.wav" \
        rate 16000 silence 1 0.01 0.2% reverse silence 1 0.01 0.2% reverse norm "-$level"
      len=$(soxi -s "$t/word.wav")
      # A word longer than 0.95 s (slow voices with long stresses or an
      # echo) is sped up to 0.9 s, so that the clip holds it whole.
      if ((len > 15200)); then
        sox -R -V1 "$t/word.wav" "$t/fast.wav" tempo -s "$(awk -v l="$len" 'BEGIN {printf "%.4f", l / 14400}')" norm "-$level"
        mv "$t/fast.wav" "$t/word.wav"
        len=$(soxi -s "$t/word.wav")
      fi
      if ((len < 1600)); then
        echo "make-speech-corpus-full: $voice -s $sp -p $p says '$word' in $len samples" >&2
        exit 1
      fi
      room=$(( 16000 - len ))
      ((room > 4800)) && room=4800 # lead-in at most 0.3 s
      lead=160
      if ((room > 160)); then r $(( room - 160 + 1 )); lead=$(( 160 + R )); fi
      bank=$(( RANDOM % 3 ))
      r $(( 480000 - 16000 )); off=$R
      r 31; gain=$(( 35 + R ))
      sox -R -V1 -m \
        -v 1 "|sox -R -V1 $t/word.wav -p pad ${lead}s 16000s" \
        -v 1 "|sox -R -V1 $work/bank$bank.wav -p trim ${off}s 16000s gain -$gain" \
        -b 16 "$work/out/$word/${id}_nohash_$n.wav" trim 0 16000s
    done
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$id" "$voice" "$speed" "$pitch" "-$level" "$split" > "$work/speakers/$s.tsv"
  rm -rf "$t"
}

# The six background-noise recordings, deterministic (sox -R, seeded RANDOM).
noises() {
  local d=$1 t=$2 i=0 total=0 f g seg
  local sx=(sox -R -V1 -n -r 16000 -c 1 -b 16)
  "${sx[@]}" "$d/white_noise.wav" synth 61 whitenoise vol 0.3
  "${sx[@]}" "$d/pink_noise.wav" synth 61 pinknoise vol 0.3
  "${sx[@]}" "$d/brown_noise.wav" synth 61 brownnoise vol 0.3
  # A running tap: band-limited hiss that fluctuates quickly and slowly.
  "${sx[@]}" "$d/running_tap.wav" synth 61 whitenoise highpass 500 lowpass 6000 \
    tremolo 13 30 tremolo 3.1 25 tremolo 0.37 20 norm -8
  # An exercise bike: a low rumble and a whine pulsing with the pedals
  # (1.25 Hz), and the chain's hiss at twice that.
  sox -R -V1 -m \
    -v 1 "|sox -R -V1 -n -r 16000 -c 1 -p synth 61 brownnoise band 250 200 tremolo 1.25 80" \
    -v 1 "|sox -R -V1 -n -r 16000 -c 1 -p synth 61 sine 95 tremolo 1.25 60 gain -14" \
    -v 1 "|sox -R -V1 -n -r 16000 -c 1 -p synth 61 pinknoise band 1200 400 tremolo 2.5 90 gain -20" \
    -b 16 "$d/exercise_bike.wav" norm -6
  # Doing the dishes: plucked clinks of random pitch and length at random
  # times, over water.
  RANDOM=$(( SEED * 7 + 3 ))
  mkdir -p "$t/dishes"
  while ((total < 95000)); do # milliseconds
    f=$(( 900 + RANDOM % 3000 )) g=$(( 100 + RANDOM % 1100 )) seg=$(( 120 + RANDOM % 300 ))
    "${sx[@]}" "$t/dishes/$(printf %04d $i).wav" synth "0.$(printf %03d $seg)" pluck "$f" \
      gain "-$(( RANDOM % 14 ))" pad 0 "$(( g / 1000 )).$(printf %03d $(( g % 1000 )))"
    total=$(( total + seg + g )) i=$(( i + 1 ))
  done
  sox -R -V1 "$t"/dishes/*.wav "$t/clinks.wav"
  sox -R -V1 -m \
    -v 1 "|sox -R -V1 $t/clinks.wav -p trim 0 95" \
    -v 1 "|sox -R -V1 -n -r 16000 -c 1 -p synth 95 pinknoise highpass 300 lowpass 4000 tremolo 9 30 gain -26" \
    -b 16 "$d/doing_the_dishes.wav" norm -3
  cat > "$d/README.md" <<'EOF'
Synthetic background-noise recordings made with sox by
scripts/make-speech-corpus-full.sh, named after Speech Commands v0.02's:
white, pink and brown noise; a running tap (band-limited hiss with
tremolo); an exercise bike (low rumble, 95 Hz whine and chain hiss pulsing
at 1.25 Hz); doing the dishes (random plucked clinks over water). None is a
recording.
EOF
}

if [ "${1:-}" = --job ]; then
  speaker "$2" "$3"
  exit
fi

case ${1:-} in
  --full) mode=full default=250 ;;
  --held-out) mode=held-out default=40 ;;
  *) echo "usage: make-speech-corpus-full.sh --full|--held-out OUT [SPEAKERS]" >&2; exit 2 ;;
esac
out=${2:?usage: make-speech-corpus-full.sh --full|--held-out OUT [SPEAKERS]}
speakers=${3:-$default}
jobs=${JOBS:-$(nproc)}
out=${out%/}
if [ -e "$out" ]; then
  echo "make-speech-corpus-full: $out exists; choose another folder or remove it" >&2
  exit 1
fi
"$(dirname "$self")/install-deps.sh" speech
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$out.partial-$$.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GSC_WORK=$work SEED
mkdir -p "$work/out/_background_noise_" "$work/speakers" "$work/tmp"
for word in $WORDS35; do mkdir -p "$work/out/$word"; done
start=$SECONDS

noises "$work/out/_background_noise_" "$work/tmp"
# The faint noise under each word: 30 s banks that the recordings do not
# contain (cut from 61 s on).
for k in 0:whitenoise 1:pinknoise 2:brownnoise; do
  sox -R -V1 -n -r 16000 -c 1 -b 16 "$work/bank${k%%:*}.wav" synth 91 "${k#*:}" trim 61 vol 0.5
done

seq 0 $((speakers - 1)) | xargs -P "$jobs" -n 1 "$self" --job "$mode"

o=$work/out
{
  printf 'index\tspeaker\tvoice\tspeed_wpm\tpitch\tpeak_dBFS\tsplit\n'
  cat "$work"/speakers/*.tsv | sort -n
} > "$o/speakers.tsv"
dups=$(cut -f2 "$o/speakers.tsv" | sort | uniq -d)
if [ -n "$dups" ]; then
  echo "make-speech-corpus-full: speaker ids collide: $dups (choose another SEED)" >&2
  exit 1
fi
for split in validation testing; do
  awk -F'\t' -v s="$split" '$7 == s {print $2}' "$o/speakers.tsv" > "$work/ids"
  (cd "$o" && find . -mindepth 2 -name '*_nohash_*.wav' -not -path './_background_noise_/*' |
    sed 's#^\./##' | awk -F/ 'NR == FNR {ids[$1]; next} {split($2, a, "_nohash_"); if (a[1] in ids) print}' "$work/ids" - |
    LC_ALL=C sort) > "$o/${split}_list.txt"
done
clips=$(find "$o" -mindepth 2 -name '*_nohash_*.wav' | wc -l)
want=$(( speakers * (35 + 20) ))
if ((clips != want)); then
  echo "make-speech-corpus-full: $clips clips, want $want" >&2
  exit 1
fi
{
  echo "# A synthetic corpus in the Speech Commands v0.02 layout"
  echo
  echo "Made by \`scripts/make-speech-corpus.sh --$mode OUT $speakers\` (SEED=$SEED) with"
  echo "$(espeak-ng --version | sed 's/ *Data at.*//') and $(sox --version | sed 's/^sox: *//'). Every clip is synthetic speech."
  echo
  echo "- $clips clips of 1 s (16 kHz, mono, PCM16): $speakers speakers × (35 words + the 20 core words again)"
  echo "- $(awk -F'\t' 'NR > 1 {print $3}' "$o/speakers.tsv" | sort -u | wc -l) espeak-ng voices (speakers.tsv lists each speaker's voice, speed, pitch, level and split)"
  echo "- list split by speaker: $(wc -l < "$o/validation_list.txt") validation clips, $(wc -l < "$o/testing_list.txt") testing clips"
  echo "- held-out voices (never in a --full corpus): accents $HELD_OUT_BASES; variants $HELD_OUT_VARIANTS"
  echo "- _background_noise_/: six synthetic recordings (see its README.md)"
} > "$o/README.md"
mv -T "$o" "$out"
echo "wrote $clips clips of $speakers speakers to $out in $(( SECONDS - start )) s" >&2
