#include "jobs/config_schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "common/enum_names.h"
#include "common/error.h"
#include "common/text.h"
#include "losses/implicit_losses.h"
#include "losses/pair_losses.h"
#include "slurm/slurm_spec.h"

namespace ipm {
namespace {

constexpr int64_t kBig = int64_t{1} << 40;

// "2^40" reads better than 1099511627776 in messages and docs.
std::string bound_text(double v) {
  if (v == static_cast<double>(kBig)) return "2^40";
  return json_number(v);
}

ConfigKey new_key(const char* dotted, KeyType type) {
  ConfigKey k;
  k.dotted = dotted;
  k.type = type;
  return k;
}

// The builders below make one ConfigKey each; `at` is a generic lambda returning the JobSpec
// field (const or not), so one expression serves both get and set.
#define FIELD(expr)      \
  [](auto& s) -> auto& { \
    return s.expr;       \
  }

template <typename At>
ConfigKey string_key(const char* dotted, const char* help, At at, KeyType type = KeyType::kString) {
  ConfigKey k = new_key(dotted, type);
  k.allowed = type == KeyType::kPath ? "a path (relative: to the suite file)" : "a string";
  k.help = help;
  k.get = [at](const JobSpec& s) -> KeyValue {
    if constexpr (std::is_same_v<std::decay_t<decltype(at(s))>, std::filesystem::path>) {
      return at(s).string();
    } else {
      return at(s);
    }
  };
  k.set = [at](JobSpec& s, const KeyValue& v) { at(s) = std::get<std::string>(v); };
  return k;
}

// One of E's names (or of `only`, a subset, when given). The field holds E, or its name while
// a consumer still reads strings.
template <typename E, typename At>
ConfigKey enum_key(const char* dotted, const char* help, At at, std::vector<E> only = {}) {
  ConfigKey k = new_key(dotted, KeyType::kEnum);
  if (only.empty()) {
    k.choices = enum_name_list<E>();
  } else {
    for (const E e : only) k.choices.push_back(enum_to_name(e));
  }
  k.allowed = join(k.choices, ", ");
  k.help = help;
  k.get = [at](const JobSpec& s) -> KeyValue {
    const auto& f = at(s);
    if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::string>) {
      return f;
    } else {
      return std::string(enum_to_name(f));
    }
  };
  k.set = [at](JobSpec& s, const KeyValue& v) {
    auto& f = at(s);
    const std::string& name = std::get<std::string>(v);
    if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::string>) {
      f = name;
    } else {
      f = *enum_from_name<E>(name);
    }
  };
  return k;
}

// An integer in [lo, hi]; `shown` replaces the range in messages and docs where the real
// bound depends on the data (checked again when the job starts).
template <typename At>
ConfigKey int_key(const char* dotted, int64_t lo, int64_t hi, const char* help, At at,
                  const char* shown = nullptr) {
  ConfigKey k = new_key(dotted, KeyType::kInt);
  k.lo = static_cast<double>(lo);
  k.hi = static_cast<double>(hi);
  k.allowed = shown ? shown : bound_text(k.lo) + ".." + bound_text(k.hi);
  k.help = help;
  k.get = [at](const JobSpec& s) -> KeyValue { return static_cast<int64_t>(at(s)); };
  k.set = [at](JobSpec& s, const KeyValue& v) {
    at(s) = static_cast<std::decay_t<decltype(at(s))>>(std::get<int64_t>(v));
  };
  return k;
}

// A finite number in [lo, hi], "(" / ")" where an end is excluded.
template <typename At>
ConfigKey float_key(const char* dotted, const char* range, double lo, double hi, const char* help,
                    At at) {
  ConfigKey k = new_key(dotted, KeyType::kFloat);
  k.lo_open = range[0] == '(';
  k.hi_open = range[1] == ')';
  k.lo = lo;
  k.hi = hi;
  k.allowed = std::string(k.lo_open ? "(" : "[") + bound_text(lo) + ", " + bound_text(hi) +
              (k.hi_open ? ")" : "]");
  k.help = help;
  k.get = [at](const JobSpec& s) -> KeyValue { return static_cast<double>(at(s)); };
  k.set = [at](JobSpec& s, const KeyValue& v) { at(s) = std::get<double>(v); };
  return k;
}

// For a key whose JobSpec default is not what a user sees (set later, or required).
ConfigKey shown_default(const char* text, ConfigKey k) {
  k.shown_default = text;
  return k;
}

// How a key's type reads in an error message ("must be an integer") and in docs/keys.md.
struct TypeWords {
  const char* in_message;
  const char* in_docs;
};

TypeWords type_words(KeyType t) {
  switch (t) {
    case KeyType::kString: return {"a string", "string"};
    case KeyType::kPath: return {"a string", "path"};
    case KeyType::kEnum: return {"a string", "enum"};
    case KeyType::kInt: return {"an integer", "integer"};
    case KeyType::kFloat: return {"a number", "float"};
  }
  return {"?", "?"};
}

// Markdown table cells: a '|' would end the cell.
std::string cell(const std::string& s) {
  std::string out;
  for (const char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

// The table. Defaults are JobSpec's member initializers (trainer/job_spec.h), read through
// `get` on a default JobSpec wherever they are shown.
const std::vector<ConfigKey>& config_keys() {
  using L = LossKind;
  static const std::vector<ConfigKey> keys = {
      shown_default("(required)", string_key("data.file",
                                             "The ipm-dist HDF5 file "
                                             "(docs/data-format.md).",
                                             FIELD(data.file), KeyType::kPath)),
      string_key("data.train", "The split (HDF5 group) to train on.", FIELD(data.train)),
      string_key("data.test", "The split (HDF5 group) to evaluate on.", FIELD(data.test)),
      enum_key<Preload>("data.preload",
                        "auto: load a split into memory when it is under 4 GiB; always; never "
                        "(read batches from the file).",
                        FIELD(data.preload)),
      enum_key<Arch>("model.arch",
                     "small_cnn: the paper's CNN (4 conv 3x3, 32 ch, 33,194 parameters on "
                     "28x28x1); fcn: per-pixel logits for segmentation (App. E.1.3).",
                     FIELD(arch)),
      int_key("model.width", 0, 65536, "Channels per layer; 0 = the arch's default (fcn: 64).",
              FIELD(model_width)),
      enum_key<PriorKind>("prior.kind",
                          "Where the prior p_i(l) comes from (docs/priors.md): k negative "
                          "labels, partial label sets, stored rows of /prior, ranking pairs, "
                          "coarse block labels.",
                          FIELD(prior.kind)),
      int_key("prior.k", 1, kBig, "negative: wrong labels ruled out per sample.", FIELD(prior.k),
              "1..num_classes-1"),
      float_key("prior.prob", "[]", 0.0, 1.0,
                "partial: chance that each wrong label joins the candidate set.",
                FIELD(prior.prob)),
      float_key("prior.smoothing", "[]", 0.0, 1.0,
                "Additive smoothing eps: p <- (p + eps) / (1 + L eps) after any source "
                "(App. E.1.3); 0 = none.",
                FIELD(prior.smoothing)),
      float_key("prior.blur", "[]", 0.0, 1000.0,
                "coarse: Gaussian blur sigma of the prior map in pixels (edges replicated); "
                "0 = none.",
                FIELD(prior.blur)),
      shown_default("train.seed",
                    int_key("prior.seed", 0, kBig,
                            "Which random labels / pairs; follows train.seed (swept too) "
                            "unless set.",
                            FIELD(prior.seed))),
      int_key("prior.pairs", 0, kBig,
              "ranking: pairs of training rows (0 = all floor(rows / 2), or every stored pair).",
              FIELD(prior.pairs)),
      enum_key<PairTies>("prior.ties",
                         "ranking: prior of an equal pair: triangle (the paper's binary "
                         "greater-or-equal) or diagonal (ties observed: 1/L on l1 = l2).",
                         FIELD(prior.ties)),
      enum_key<PairNormalization>("prior.pair_normalizer",
                                  "ranking: position (Eq. 6: Z_a over first members, Z_b over "
                                  "second ones) or pooled (both over all 2B images).",
                                  FIELD(prior.pair_normalizer)),
      enum_key<PairSource>("prior.pair_source",
                           "ranking: seeded (pairs drawn from y by prior.seed) or file "
                           "(/<train split>/pairs).",
                           FIELD(prior.pair_source)),
      enum_key<LossKind>("train.loss",
                         "The loss (losses/implicit_losses.h): ce, nll (union), qr = KL(q||r), "
                         "rq = KL(r||q), f2 (self-supervised, App. F), hard_ce (CE on the "
                         "prior's argmax), free_energy (Eq. 5).",
                         FIELD(train.loss)),
      enum_key<LossKind>("train.pretrain_loss",
                         "Loss of the first train.pretrain_epochs epochs (App. B): CE on the "
                         "prior, or on its argmax.",
                         FIELD(train.pretrain_loss), {L::kCE, L::kHardCE}),
      int_key("train.pretrain_epochs", 0, kBig,
              "Epochs that minimize train.pretrain_loss before train.loss takes over.",
              FIELD(train.pretrain_epochs), "0..train.epochs-1"),
      enum_key<Optimizer>("train.optimizer",
                          "adam (weight decay as L2 in the gradient) or adamw (decoupled).",
                          FIELD(train.optimizer)),
      float_key("train.lr", "(]", 0.0, 10.0, "Learning rate.", FIELD(train.lr)),
      float_key("train.weight_decay", "[]", 0.0, 10.0, "Weight decay.", FIELD(train.weight_decay)),
      int_key("train.batch", 1, kBig,
              "The global batch over all ranks of a job (images; pairs for prior.kind = "
              "ranking).",
              FIELD(train.batch)),
      int_key("train.epochs", 1, kBig, "Epochs to train.", FIELD(train.epochs)),
      enum_key<NormalizerKind>("train.normalizer",
                               "Which samples log Z_l = log sum_j q_j(l) spans: local (this "
                               "rank's slice), global (the whole batch, all-reduced), ema "
                               "(running mean over past batches).",
                               FIELD(train.normalizer)),
      float_key("train.ema_decay", "[)", 0.0, 1.0, "ema: decay of the running mean of q, per step.",
                FIELD(train.ema_decay)),
      float_key("train.ema_samples", "(]", 0.0, static_cast<double>(kBig),
                "ema: how many samples the running mean counts as beside the batch.",
                FIELD(train.ema_samples)),
      int_key("train.ema_warmup", 0, kBig,
              "ema: steps that use the batch's own normalizer before the running mean "
              "mixes in.",
              FIELD(train.ema_warmup)),
      int_key("train.seed", 0, kBig, "Initialization and batch order.", FIELD(train.seed)),
      enum_key<TrainEval>("train.train_eval",
                          "full: accuracy of q over the train split after each epoch (the "
                          "paper's); running: during the epoch's steps (cheaper).",
                          FIELD(train.train_eval)),
      int_key("train.train_subset", 0, kBig, "Use only the first N training rows (0 = all).",
              FIELD(train.train_subset)),
      float_key("train.q_smoothing", "[]", 0.0, 1.0,
                "Segmentation: q <- (q + eps) / (1 + L eps) before the loss (App. E.1.3 "
                "uses 1e-4).",
                FIELD(train.q_smoothing)),
      enum_key<Precision>("train.precision",
                          "float64 is slow, for verification (rank-count invariance to "
                          "round-off).",
                          FIELD(train.precision)),
      int_key("run.ranks_per_job", 1, 4096,
              "Ranks that train one job data-parallel; the world splits into groups of this "
              "size.",
              FIELD(run.ranks_per_job)),
      int_key("run.threads_per_rank", 1, 256, "Intra-op threads of each rank.",
              FIELD(run.threads_per_rank)),
      enum_key<Backend>("run.backend",
                        "Communicator: mpi (CPU), nccl (CUDA, one rank per GPU), auto (nccl "
                        "when it can; docs/gpu-clusters.md). The same for every job.",
                        FIELD(run.backend)),
  };
  return keys;
}

#undef FIELD

const ConfigKey* find_key(const std::string& dotted) {
  for (const auto& k : config_keys()) {
    if (dotted == k.dotted) return &k;
  }
  return nullptr;
}

void apply_key(JobSpec& s, const ConfigKey& k, const toml::node& v, const std::string& where,
               const std::filesystem::path& base_dir) {
  const std::string what = where + ": " + k.dotted;
  switch (k.type) {
    case KeyType::kString:
    case KeyType::kPath:
    case KeyType::kEnum: {
      IPM_CHECK(v.is_string(), what << " must be " << type_words(k.type).in_message);
      std::string text = *v.value<std::string>();
      if (k.type == KeyType::kPath) {
        IPM_CHECK(!text.empty(), what << " is empty");
        const std::filesystem::path p = text;
        text = p.is_absolute() ? text : (base_dir / p).lexically_normal().string();
      }
      if (k.type == KeyType::kEnum &&
          std::find(k.choices.begin(), k.choices.end(), text) == k.choices.end()) {
        throw Error(what + " = \"" + text + "\" is not one of " + k.allowed + " (did you mean \"" +
                    nearest(text, k.choices) + "\"?)");
      }
      k.set(s, text);
      return;
    }
    case KeyType::kInt: {
      IPM_CHECK(v.is_integer(), what << " must be " << type_words(k.type).in_message);
      const int64_t i = *v.value<int64_t>();
      IPM_CHECK(static_cast<double>(i) >= k.lo && static_cast<double>(i) <= k.hi,
                what << " = " << i << " is outside " << k.allowed);
      k.set(s, i);
      return;
    }
    case KeyType::kFloat: {
      IPM_CHECK(v.is_integer() || v.is_floating_point(),
                what << " must be " << type_words(k.type).in_message);
      const double d = *v.value<double>();
      IPM_CHECK(std::isfinite(d), what << " = " << d << " is not finite");
      const bool above = k.lo_open ? d > k.lo : d >= k.lo;
      const bool below = k.hi_open ? d < k.hi : d <= k.hi;
      IPM_CHECK(above && below, what << " = " << json_number(d) << " is outside " << k.allowed);
      k.set(s, d);
      return;
    }
  }
}

std::string key_value_text(const ConfigKey& k, const KeyValue& v) {
  switch (k.type) {
    case KeyType::kInt: return std::to_string(std::get<int64_t>(v));
    case KeyType::kFloat: {
      std::string t = json_number(std::get<double>(v));
      // TOML floats need a '.' or exponent; "1" would read back as an integer.
      if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
      return t;
    }
    default: return json_string(std::get<std::string>(v));  // TOML basic strings
  }
}

std::string spec_to_toml(const JobSpec& s) {
  std::ostringstream o;
  o << "# Resolved configuration of job " << s.name << " (every key, defaults included).\n";
  o << "name = " << json_string(s.name) << "\n";
  std::string table;
  for (const auto& k : config_keys()) {
    const size_t dot = k.dotted.find('.');
    if (k.dotted.substr(0, dot) != table) {
      table = k.dotted.substr(0, dot);
      o << "\n[" << table << "]\n";
    }
    o << k.dotted.substr(dot + 1) << " = " << key_value_text(k, k.get(s)) << "\n";
  }
  return o.str();
}

std::string keys_markdown() {
  std::ostringstream o;
  o << "# Suite keys\n\n"
    << "Generated by `ipm-dist keys` from the key table in `jobs/config_schema.cc`; do not "
       "edit by hand\n(`scripts/gen-keys-doc.sh` rewrites this file, and the test "
       "`e2e.keys_doc_test` fails when it is stale).\n\n"
    << "A suite file sets these keys in their tables (`[train]` `lr = 1e-4`) and may sweep "
       "any of them\n(`[sweep]` `\"train.lr\" = [1e-4, 1e-3]`). Besides them: `name`, "
       "`output` (top level) and\n`[slurm]` (below; docs/slurm.md). Unknown keys, wrong types and "
       "values outside the allowed range are\nrefused with the file, the line and the "
       "nearest valid key, for every job of a sweep, before any\ntrains.\n";
  const JobSpec defaults;
  std::string table;
  for (const auto& k : config_keys()) {
    const size_t dot = k.dotted.find('.');
    if (k.dotted.substr(0, dot) != table) {
      table = k.dotted.substr(0, dot);
      o << "\n## [" << table << "]\n\n"
        << "| key | type | allowed | default | what it does |\n"
        << "|---|---|---|---|---|\n";
    }
    const std::string def =
        k.shown_default.empty() ? key_value_text(k, k.get(defaults)) : k.shown_default;
    o << "| `" << k.dotted << "` | " << type_words(k.type).in_docs << " | " << cell(k.allowed)
      << " | `" << def << "` | " << cell(k.help) << " |\n";
  }
  o << "\n## [slurm]\n\n"
    << "Read by `ipm-dist slurm` only (docs/slurm.md), from the suite's `[slurm]` table or its "
       "option,\nthe option winning; not sweepable. Values are checked as Slurm would take "
       "them.\n\n"
    << "| key | option | what it does |\n|---|---|---|\n";
  for (const SlurmKey& k : slurm_key_table()) {
    o << "| " << (k.in_suite ? "`" + std::string(k.key) + "`" : std::string("(option only)"))
      << " | " << (k.option ? "`" + std::string(k.option) + "`" : std::string("(suite only)"))
      << " | " << cell(k.help) << " |\n";
  }
  return o.str();
}

}  // namespace ipm
