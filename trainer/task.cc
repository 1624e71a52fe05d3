#include "trainer/task.h"

#include "io/h5_split.h"

namespace ipm {

TaskKind task_kind(const JobSpec& spec) {
  const H5Split train(spec.data.file, spec.data.train, /*preload=*/false);
  if (train.label_shape().size() == 2) return TaskKind::kSegmentation;
  if (spec.prior.kind == PriorKind::kRanking) return TaskKind::kRanking;
  return TaskKind::kClassification;
}

const Task& task_for(TaskKind kind) {
  switch (kind) {
    case TaskKind::kRanking: return kRankingTask;
    case TaskKind::kSegmentation: return kSegmentationTask;
    case TaskKind::kClassification: break;
  }
  return kClassificationTask;
}

}  // namespace ipm
