#include "jobs/config_schema.h"

#include <cmath>
#include <sstream>

#include "common/error.h"
#include "common/text.h"

namespace ipm {
namespace {

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::kString: return "a string";
    case KeyType::kInt: return "an integer";
    case KeyType::kFloat: return "a number";
  }
  return "?";
}

std::string as_string(const ConfigKey& k, const toml::node& v, const std::string& where) {
  IPM_CHECK(v.is_string(), where << ": " << k.dotted << " must be " << type_name(k.type));
  return *v.value<std::string>();
}

int64_t as_int(const ConfigKey& k, const toml::node& v, const std::string& where) {
  IPM_CHECK(v.is_integer(), where << ": " << k.dotted << " must be " << type_name(k.type));
  return *v.value<int64_t>();
}

double as_float(const ConfigKey& k, const toml::node& v, const std::string& where) {
  IPM_CHECK(v.is_integer() || v.is_floating_point(),
            where << ": " << k.dotted << " must be " << type_name(k.type));
  const double d = *v.value<double>();
  IPM_CHECK(std::isfinite(d), where << ": " << k.dotted << " = " << d << " is not finite");
  return d;
}

std::string one_of(const ConfigKey& k, const toml::node& v, const std::string& where,
                   std::initializer_list<const char*> allowed) {
  const std::string s = as_string(k, v, where);
  for (const char* a : allowed) {
    if (s == a) return s;
  }
  std::vector<std::string> names(allowed.begin(), allowed.end());
  throw Error(where + ": " + k.dotted + " = \"" + s + "\" is not one of " + k.help +
              " (did you mean \"" + nearest(s, names) + "\"?)");
}

template <typename T>
T in_range(const ConfigKey& k, T v, T lo, T hi, const std::string& where) {
  IPM_CHECK(v >= lo && v <= hi, where << ": " << k.dotted << " = " << v << " is outside "
                                      << k.help);
  return v;
}

constexpr int64_t kBig = int64_t{1} << 40;

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = {
      {"data.file", KeyType::kString, "a path to an ipm-dist HDF5 file"},
      {"data.train", KeyType::kString, "a split (group) name"},
      {"data.test", KeyType::kString, "a split (group) name"},
      {"data.preload", KeyType::kString, "auto, always, never"},
      {"data.order", KeyType::kString, "auto, exact, chunked"},
      {"data.shuffle_window", KeyType::kInt, "1..2^40 (HDF5 chunks)"},
      {"data.prefetch", KeyType::kInt, "0..64 (batches)"},
      {"model.arch", KeyType::kString, "small_cnn, fcn"},
      {"model.width", KeyType::kInt, "0..65536 (0 = the arch's default)"},
      {"prior.kind", KeyType::kString, "negative, partial, stored, ranking, coarse"},
      {"prior.k", KeyType::kInt, "1..num_classes-1"},
      {"prior.prob", KeyType::kFloat, "[0, 1]"},
      {"prior.smoothing", KeyType::kFloat, "[0, 1]"},
      {"prior.blur", KeyType::kFloat, "[0, 1000] (pixels; coarse priors)"},
      {"prior.seed", KeyType::kInt, "0..2^40 (default: train.seed)"},
      {"prior.pairs", KeyType::kInt, "0..2^40 (ranking: pairs of training rows; 0 = rows / 2)"},
      {"prior.ties", KeyType::kString, "triangle, diagonal"},
      {"prior.pair_normalizer", KeyType::kString, "position, pooled"},
      {"prior.pair_source", KeyType::kString, "seeded, file"},
      {"train.loss", KeyType::kString, "ce, nll, qr, rq, f2, hard_ce, free_energy"},
      {"train.pretrain_loss", KeyType::kString, "ce, hard_ce"},
      {"train.pretrain_epochs", KeyType::kInt, "0..train.epochs-1"},
      {"train.optimizer", KeyType::kString, "adam, adamw"},
      {"train.lr", KeyType::kFloat, "(0, 10]"},
      {"train.weight_decay", KeyType::kFloat, "[0, 10]"},
      {"train.batch", KeyType::kInt, "1..2^40 (images; pairs with prior.kind = ranking)"},
      {"train.epochs", KeyType::kInt, "1..2^40"},
      {"train.normalizer", KeyType::kString, "local, global, ema"},
      {"train.ema_decay", KeyType::kFloat, "[0, 1)"},
      {"train.ema_samples", KeyType::kFloat, "(0, 2^40]"},
      {"train.ema_warmup", KeyType::kInt, "0..2^40"},
      {"train.seed", KeyType::kInt, "0..2^40"},
      {"train.train_eval", KeyType::kString, "full, running"},
      {"train.train_subset", KeyType::kInt, "0..2^40 (0 = all rows)"},
      {"train.precision", KeyType::kString, "float32, float64"},
      {"train.q_smoothing", KeyType::kFloat, "[0, 1] (segmentation jobs)"},
      {"run.ranks_per_job", KeyType::kInt, "1..4096"},
      {"run.threads_per_rank", KeyType::kInt, "1..256"},
      {"run.backend", KeyType::kString, "auto, mpi, nccl"},
  };
  return keys;
}

const ConfigKey* find_key(const std::string& dotted) {
  for (const auto& k : config_keys()) {
    if (dotted == k.dotted) return &k;
  }
  return nullptr;
}

void apply_key(JobSpec& s, const ConfigKey& k, const toml::node& v, const std::string& where,
               const std::filesystem::path& base_dir) {
  const std::string key = k.dotted;
  if (key == "data.file") {
    const std::filesystem::path p = as_string(k, v, where);
    IPM_CHECK(!p.empty(), where << ": data.file is empty");
    s.data.file = p.is_absolute() ? p : (base_dir / p).lexically_normal();
  } else if (key == "data.train") {
    s.data.train = as_string(k, v, where);
  } else if (key == "data.test") {
    s.data.test = as_string(k, v, where);
  } else if (key == "data.preload") {
    s.data.preload = one_of(k, v, where, {"auto", "always", "never"});
  } else if (key == "data.order") {
    s.data.order = one_of(k, v, where, {"auto", "exact", "chunked"});
  } else if (key == "data.shuffle_window") {
    s.data.shuffle_window = in_range<int64_t>(k, as_int(k, v, where), 1, kBig, where);
  } else if (key == "data.prefetch") {
    s.data.prefetch = in_range<int64_t>(k, as_int(k, v, where), 0, 64, where);
  } else if (key == "model.arch") {
    s.arch = one_of(k, v, where, {"small_cnn", "fcn"});
  } else if (key == "model.width") {
    s.model_width = in_range<int64_t>(k, as_int(k, v, where), 0, 65536, where);
  } else if (key == "prior.kind") {
    s.prior.kind = one_of(k, v, where, {"negative", "partial", "stored", "ranking", "coarse"});
  } else if (key == "prior.k") {
    s.prior.k = in_range<int64_t>(k, as_int(k, v, where), 1, kBig, where);
  } else if (key == "prior.prob") {
    s.prior.prob = in_range(k, as_float(k, v, where), 0.0, 1.0, where);
  } else if (key == "prior.smoothing") {
    s.prior.smoothing = in_range(k, as_float(k, v, where), 0.0, 1.0, where);
  } else if (key == "prior.blur") {
    s.prior.blur = in_range(k, as_float(k, v, where), 0.0, 1000.0, where);
  } else if (key == "prior.seed") {
    s.prior.seed = static_cast<uint64_t>(in_range<int64_t>(k, as_int(k, v, where), 0, kBig, where));
  } else if (key == "prior.pairs") {
    s.prior.pairs = in_range<int64_t>(k, as_int(k, v, where), 0, kBig, where);
  } else if (key == "prior.ties") {
    s.prior.ties = one_of(k, v, where, {"triangle", "diagonal"});
  } else if (key == "prior.pair_normalizer") {
    s.prior.pair_normalizer = one_of(k, v, where, {"position", "pooled"});
  } else if (key == "prior.pair_source") {
    s.prior.pair_source = one_of(k, v, where, {"seeded", "file"});
  } else if (key == "train.loss") {
    s.train.loss =
        one_of(k, v, where, {"ce", "nll", "qr", "rq", "f2", "hard_ce", "free_energy"});
  } else if (key == "train.pretrain_loss") {
    s.train.pretrain_loss = one_of(k, v, where, {"ce", "hard_ce"});
  } else if (key == "train.pretrain_epochs") {
    s.train.pretrain_epochs = in_range<int64_t>(k, as_int(k, v, where), 0, kBig, where);
  } else if (key == "train.optimizer") {
    s.train.optimizer = one_of(k, v, where, {"adam", "adamw"});
  } else if (key == "train.lr") {
    s.train.lr = in_range(k, as_float(k, v, where), 1e-300, 10.0, where);
  } else if (key == "train.weight_decay") {
    s.train.weight_decay = in_range(k, as_float(k, v, where), 0.0, 10.0, where);
  } else if (key == "train.batch") {
    s.train.batch = in_range<int64_t>(k, as_int(k, v, where), 1, kBig, where);
  } else if (key == "train.epochs") {
    s.train.epochs = in_range<int64_t>(k, as_int(k, v, where), 1, kBig, where);
  } else if (key == "train.normalizer") {
    s.train.normalizer = one_of(k, v, where, {"local", "global", "ema"});
  } else if (key == "train.ema_decay") {
    s.train.ema_decay = in_range(k, as_float(k, v, where), 0.0, 0.999999, where);
  } else if (key == "train.ema_samples") {
    s.train.ema_samples = in_range(k, as_float(k, v, where), 1e-300, static_cast<double>(kBig), where);
  } else if (key == "train.ema_warmup") {
    s.train.ema_warmup = in_range<int64_t>(k, as_int(k, v, where), 0, kBig, where);
  } else if (key == "train.seed") {
    s.train.seed = static_cast<uint64_t>(in_range<int64_t>(k, as_int(k, v, where), 0, kBig, where));
  } else if (key == "train.train_eval") {
    s.train.train_eval = one_of(k, v, where, {"full", "running"});
  } else if (key == "train.train_subset") {
    s.train.train_subset = in_range<int64_t>(k, as_int(k, v, where), 0, kBig, where);
  } else if (key == "train.q_smoothing") {
    s.train.q_smoothing = in_range(k, as_float(k, v, where), 0.0, 1.0, where);
  } else if (key == "train.precision") {
    s.train.precision = one_of(k, v, where, {"float32", "float64"});
  } else if (key == "run.ranks_per_job") {
    s.run.ranks_per_job = in_range<int64_t>(k, as_int(k, v, where), 1, 4096, where);
  } else if (key == "run.threads_per_rank") {
    s.run.threads_per_rank = in_range<int64_t>(k, as_int(k, v, where), 1, 256, where);
  } else if (key == "run.backend") {
    s.run.backend = one_of(k, v, where, {"auto", "mpi", "nccl"});
  } else {
    throw Error("internal: key " + key + " has no setter");
  }
}

std::string spec_to_toml(const JobSpec& s) {
  std::ostringstream o;
  auto str = [](const std::string& v) { return json_string(v); };  // TOML basic strings
  auto num = [](double v) {
    std::string t = json_number(v);
    // TOML floats need a '.' or exponent; "1" would read back as an integer.
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  };
  o << "# Resolved configuration of job " << s.name << " (every key, defaults included).\n";
  o << "name = " << str(s.name) << "\n\n[data]\nfile = " << str(s.data.file.string())
    << "\ntrain = " << str(s.data.train) << "\ntest = " << str(s.data.test)
    << "\npreload = " << str(s.data.preload) << "\norder = " << str(s.data.order)
    << "\nshuffle_window = " << s.data.shuffle_window << "\nprefetch = " << s.data.prefetch
    << "\n\n[model]\narch = " << str(s.arch)
    << "\nwidth = " << s.model_width << "\n\n[prior]\nkind = " << str(s.prior.kind) << "\nk = " << s.prior.k
    << "\nprob = " << num(s.prior.prob) << "\nsmoothing = " << num(s.prior.smoothing)
    << "\nblur = " << num(s.prior.blur)
    << "\nseed = " << s.prior.seed << "\npairs = " << s.prior.pairs
    << "\nties = " << str(s.prior.ties) << "\npair_normalizer = " << str(s.prior.pair_normalizer)
    << "\npair_source = " << str(s.prior.pair_source)
    << "\n\n[train]\nloss = " << str(s.train.loss)
    << "\npretrain_loss = " << str(s.train.pretrain_loss)
    << "\npretrain_epochs = " << s.train.pretrain_epochs
    << "\noptimizer = " << str(s.train.optimizer) << "\nlr = " << num(s.train.lr)
    << "\nweight_decay = " << num(s.train.weight_decay) << "\nbatch = " << s.train.batch
    << "\nepochs = " << s.train.epochs << "\nnormalizer = " << str(s.train.normalizer)
    << "\nema_decay = " << num(s.train.ema_decay)
    << "\nema_samples = " << num(s.train.ema_samples) << "\nema_warmup = " << s.train.ema_warmup
    << "\nseed = " << s.train.seed
    << "\ntrain_eval = " << str(s.train.train_eval)
    << "\ntrain_subset = " << s.train.train_subset
    << "\nq_smoothing = " << num(s.train.q_smoothing)
    << "\nprecision = " << str(s.train.precision) << "\n\n[run]\nranks_per_job = "
    << s.run.ranks_per_job << "\nthreads_per_rank = " << s.run.threads_per_rank
    << "\nbackend = " << str(s.run.backend) << "\n";
  return o.str();
}

}  // namespace ipm
