#!/usr/bin/env bash
# The separation for distinct elements and heavy hitters, as one sweep of `wbstream play` (5 seeds per line).
# Each line: algorithm, adversary, threat, failures/trials, and the referee's words on the last answer of seed 0
# (--keep-going: games go on after the first wrong answer, so an attack's full length is measured).
# Run from the repository root: bash docs/separation-sweep.sh
set -euo pipefail
D='distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)'
L='distinct-elements(n=1024, M=1048576, alpha=32)'
H='heavy-hitters(n=20000, M=1048576, eps=0.05)'
play() {  # problem algorithm adversary threat
  printf '%-32s %-40s %-9s ' "$2" "$3" "$4"
  .venv/bin/wbstream play --problem "$1" --algorithm "$2" --adversary "$3" --threat "$4" --trials 5 --keep-going --json \
    | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"{s['failures']}/{s['trials']}  {s['final_details'][0] or 'no answer: the attack gave up before sending anything'}\")"
}
echo "# F0, insertion-only: hash sketches are driven arbitrarily far (the truth grows ~10x with the attack, the estimate does not)"
for r in 20 200; do
  play "$D" hll "paterson-raynal-2022(rounds=$r)" white-box
  play "$D" kmv "reviriego-2021(rounds=$r)" white-box
  play "$D" ds-hll "paterson-raynal-2022(rounds=$r)" white-box
  play "$D" ds-cpc "hash-search(rounds=$r)" white-box
  play "$D" ds-theta "reviriego-2021(rounds=$r)" white-box
  play "$D" redis-hll "paterson-raynal-2022(rounds=$r)" white-box
done
for a in hll kmv ds-hll ds-cpc ds-theta redis-hll; do play "$D" "$a" dense oblivious; done
echo "# L0, turnstile, factor alpha = 32: robust-l0 holds its factor against oblivious streams (toy and moderate claim no security)"
play "$L" "robust-l0(preset='toy')" random-sparse oblivious
play "$L" "robust-l0(preset='toy')" dense oblivious
play "$L" "robust-l0(preset='moderate')" "lattice(seconds=5.0)" white-box
play "$L" "robust-l0(preset='toy')" "lattice(seconds=5.0)" white-box
echo "# Heavy hitters, eps = 0.05: counter summaries survive white-box games, hashed linear sketches do not"
for a in misra-gries robust-sampler count-min countsketch-hh ds-count-min; do play "$H" "$a" zipf oblivious; done
for a in misra-gries robust-sampler; do play "$H" "$a" counter-starver white-box; done
for a in count-min countsketch-hh ds-count-min; do play "$H" "$a" markelon-2023 white-box; done
for a in "count-min(depth=3, width=16)" "countsketch-hh(depth=3, width=16)"; do play "$H" "$a" kernel-split white-box; done
