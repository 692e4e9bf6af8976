#!/usr/bin/env bash
# The distinct-elements and heavy-hitters matchups of docs/catalogue.md: 5 games each. Run from the repository root.
D='distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)'
H='heavy-hitters(n=100000, M=1048576, eps=0.05)'
for m in "$D|hll|dense|oblivious" "$D|hll|paterson-raynal-2022|white-box" "$D|kmv|dense|oblivious" \
         "$D|kmv|reviriego-2021|white-box" "$D|kmv|reviriego-2021(mode='inflate')|white-box" \
         "$H|misra-gries|random-sparse|oblivious" "$H|count-min|random-sparse|oblivious" "$H|count-min|markelon-2023|white-box"; do
  IFS='|' read -r prob alg adv threat <<< "$m"
  printf '%-12s %-34s %-10s ' "$alg" "$adv" "$threat"
  .venv/bin/wbstream play --problem "$prob" --algorithm "$alg" --adversary "$adv" --threat "$threat" --trials 5 --json \
    | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"failures {s['failures']}/{s['trials']}\", s['failure_kinds'] or '')"
done
