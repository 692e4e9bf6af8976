#!/usr/bin/env bash
# The attack matchups of docs/sparse-recovery.md: 5 white-box games each. Run from the repository root.
P='sparse-recovery(n=1024, k=2, M=1048576)'
for m in "vandermonde finite-difference" "fw23(preset='toy') finite-difference" "fjw24(preset='toy') finite-difference" \
         "fw23(preset='toy') lattice" "fjw24(preset='toy') lattice" "fw23(preset='moderate') lattice(seconds=5.0)" \
         "fjw24(preset='moderate') lattice(seconds=5.0)" "fjw24 wrap-around"; do
  set -- $m
  printf '%-28s %-22s ' "$1" "$2"
  .venv/bin/wbstream play --problem "$P" --algorithm "$1" --adversary "$2" --threat white-box --trials 5 --json \
    | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"failures {s['failures']}/{s['trials']}\", s['failure_kinds'] or '')"
done
