#!/bin/bash
# A qbench sweep split over a Slurm job array: task i runs part i of N of the matrix
# (`qbench run --shard auto` reads SLURM_ARRAY_TASK_ID, _MIN and _COUNT) and writes its own CSV;
# the parts cover the matrix exactly once and their CSVs concatenate.
#
#   mkdir -p results && jobid=$(sbatch --parsable docs/examples/slurm-sweep.sh)
#   sbatch --dependency=afterok:"$jobid" --wrap 'qbench merge results/sweep.csv results/shard-*.csv'
#   qbench-plot --out figures/ results/sweep.csv
#
# --exclusive gives each task its node's CPUs, so that --pin has cores of its own to place
# threads on (qbench reads the node's topology: sockets, cores, SMT siblings). Tasks land on
# different nodes: rows carry their host, and `qbench compare` refuses rows of several hosts
# unless --allow-mixed-hosts; compare a base and a candidate sweep shard by shard on one node.
#SBATCH --job-name=qbench-sweep
#SBATCH --array=1-8
#SBATCH --nodes=1
#SBATCH --exclusive
#SBATCH --time=02:00:00
#SBATCH --output=results/qbench-%A_%a.log
set -euo pipefail
srun qbench run --config /usr/share/qbench/suites/ci-v1.toml --reps 9 --pin \
  --shard auto --out "results/shard-${SLURM_ARRAY_TASK_ID}.csv"
