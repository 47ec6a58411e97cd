// your-queue: qbench's command line with batch_cv beside every built-in queue.
//   your-queue list
//   your-queue run -q batch_cv,mutex_cv,split_cv -w steady -r 100k -p 2 -c 2 --out results.csv
#include <qbench/qbench.hpp>

#include "batch_queue.hpp"

QBENCH_MAIN(BatchQueue<qb::Item>)
