// The scheduler file: YAML -> SchedulerConfig, with errors as "<file>:<line>: <key>: <problem>".
#include <set>
#include <system_error>

#include "pipeline/yaml_fields.h"
#include "vigil/core/text_file.h"
#include "vigil/pipeline/scheduler.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

using pipeline_internal::YamlSource;

Result<fs::path> ParseConfigPath(const YamlSource& src, const YAML::Node& job,
                                 const std::string& key, const fs::path& base_dir) {
  const YAML::Node node = job["config"];
  if (!node.IsDefined() || node.IsNull()) {
    return src.Error(job, key, "required (the training config file)");
  }
  if (!node.IsScalar() || node.Scalar().empty()) {
    return src.Error(node, key, "expected a file path");
  }
  std::error_code error;
  fs::path path = fs::absolute(base_dir / node.Scalar(), error).lexically_normal();
  if (error) return src.Error(node, key, error.message());
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) {
    return NotFound(src.Error(node, key, path.string() + " does not exist").message());
  }
  if (!fs::is_regular_file(status)) {
    return src.Error(node, key, path.string() + " is not a regular file");
  }
  return path;
}

Result<ScheduledJob> ParseJob(const YamlSource& src, const YAML::Node& node, size_t index,
                              const fs::path& base_dir) {
  const std::string where = "jobs[" + std::to_string(index) + "]";
  if (!node.IsMap()) return src.Error(node, where, "expected a map with 'config:'");
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, where + ".", {"name", "config", "cron"}));
  ScheduledJob job;
  VIGIL_ASSIGN_OR_RETURN(job.config, ParseConfigPath(src, node, where + ".config", base_dir));
  const YAML::Node name = node["name"];
  if (name.IsDefined() && !name.IsNull()) {
    if (!name.IsScalar() || name.Scalar().empty()) {
      return src.Error(name, where + ".name", "expected a non-empty name");
    }
    job.name = name.Scalar();
  } else {
    job.name = job.config.stem().string();
  }
  const YAML::Node cron = node["cron"];
  if (cron.IsDefined() && !cron.IsNull()) {
    if (!cron.IsScalar()) {
      return src.Error(cron, where + ".cron", "expected a cron expression");
    }
    Result<CronSchedule> schedule = CronSchedule::Parse(cron.Scalar());
    if (!schedule.ok()) {
      // The key already says which expression; keep only the field and the problem.
      std::string problem = schedule.status().message();
      const std::string prefix = "cron \"" + cron.Scalar() + "\": ";
      if (problem.starts_with(prefix)) problem.erase(0, prefix.size());
      return src.Error(cron, where + ".cron", problem);
    }
    job.cron = std::move(*schedule);
  }
  return job;
}

Result<std::vector<ScheduledJob>> ParseJobs(const YamlSource& src, const YAML::Node& root,
                                            const fs::path& base_dir) {
  const YAML::Node jobs = root["jobs"];
  // A missing key on a const node is an invalid node whose type queries throw.
  if (!jobs.IsDefined() || !jobs.IsSequence() || jobs.size() == 0) {
    return src.Error(jobs.IsDefined() && !jobs.IsNull() ? jobs : root, "jobs",
                     "expected a non-empty list of jobs");
  }
  std::vector<ScheduledJob> out;
  std::set<std::string> names;
  for (size_t index = 0; index < jobs.size(); ++index) {
    VIGIL_ASSIGN_OR_RETURN(ScheduledJob job, ParseJob(src, jobs[index], index, base_dir));
    if (!names.insert(job.name).second) {
      const YAML::Node name = jobs[index]["name"];
      return src.Error(name.IsDefined() ? name : jobs[index],
                       "jobs[" + std::to_string(index) + "].name",
                       "duplicate job name '" + job.name + "'");
    }
    out.push_back(std::move(job));
  }
  return out;
}

}  // namespace

Result<SchedulerConfig> ParseSchedulerConfig(std::string_view yaml_text, std::string_view source,
                                             const fs::path& base_dir) {
  const YamlSource src{std::string(source)};
  VIGIL_ASSIGN_OR_RETURN(YAML::Node root, ParseYamlMap(std::string(yaml_text), src));
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(root, "", {"max_concurrent", "jobs"}));
  SchedulerConfig config;
  VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> max_concurrent, src.Int(root, "max_concurrent"));
  if (max_concurrent) config.options.max_concurrent = static_cast<int>(*max_concurrent);
  if (Status valid = config.options.Validate(); !valid.ok()) {
    // Validate names the field; the file adds the line.
    std::string problem = valid.message();
    if (problem.starts_with("max_concurrent: ")) problem.erase(0, 16);
    return src.Error(root["max_concurrent"], "max_concurrent", problem);
  }
  VIGIL_ASSIGN_OR_RETURN(config.jobs, ParseJobs(src, root, base_dir));
  return config;
}

Result<SchedulerConfig> LoadSchedulerConfig(const fs::path& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  return ParseSchedulerConfig(text, path.string(), path.parent_path());
}

}  // namespace vigil
