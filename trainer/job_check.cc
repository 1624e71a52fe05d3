#include "trainer/job_check.h"

#include "trainer/task.h"

namespace ipm {

void check_job(const JobSpec& spec) { task_for(task_kind(spec)).check(spec); }

}  // namespace ipm
