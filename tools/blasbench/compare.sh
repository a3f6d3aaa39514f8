#!/usr/bin/env bash
# Side-by-side: OpenBLAS (blasbench.c) and seal/models/cpu on the same shapes, alternating, several
# rounds, because the machine is shared and a single run can be off by 2x. Compare the "best" columns
# across rounds. Usage, from the repository root: tools/blasbench/compare.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
gcc -O2 -Wall -o /tmp/blasbench tools/blasbench/blasbench.c -lopenblas
go test -c -o /tmp/seal-cpu.test ./models/cpu/
env | grep OPENBLAS || echo "(no OPENBLAS_* variables set)"
for r in $(seq "$rounds"); do
	echo "== round $r: OpenBLAS"
	/tmp/blasbench
	echo "== round $r: seal/models/cpu"
	/tmp/seal-cpu.test -test.run '^$' -test.bench 'Sgemm/|Sgemv|Memory' -test.benchtime 1.5s | grep Benchmark
done
