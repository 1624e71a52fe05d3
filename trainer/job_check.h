// Checks that a job can run, without training it: data, priors, model, settings.
// defines: ipm::check_job
#pragma once

#include "trainer/job_spec.h"

namespace ipm {

// Opens both splits (headers only), builds the prior source and the model for the data's
// shape, and checks names and sizes; throws ipm::Error for the first problem. Cheap: run it
// for every job of a suite before anything trains.
void check_job(const JobSpec& spec);

}  // namespace ipm
