// vigil models list | show | promote | rollback | delete | purge | sync
//
// The registry lives in <home>/models (registry.h). Every command that changes it exits 0
// on success and 2 with a message naming the problem otherwise (unknown model, version or
// alias; delete of an aliased version; rollback with no earlier version).
#include <iostream>

#include "cli.h"
#include "vigil/registry/registry.h"

namespace vigil::cli {
namespace {

// Brings the store's model_versions rows of `name` in line with the files. The files are
// the source of truth, so a failure here is a warning (fixed by `vigil models sync`).
void Mirror(const GlobalOptions& globals, const ModelRegistry& registry, const std::string& name) {
  auto store = OpenHomeStore(globals);
  const Status status = store.ok() ? registry.MirrorModel(**store, name) : store.status();
  if (!status.ok()) {
    std::cerr << "vigil: warning: model_versions not updated (" << status.ToString()
              << "); run `vigil models sync`\n";
  }
}

int RunSync(const GlobalOptions& globals) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  auto store = OpenHomeStore(globals);
  if (!store.ok()) return Fail(store.status());
  const Status status = registry->RebuildMirror(**store);
  if (!status.ok()) return Fail(status);
  auto rows = (*store)->ListModelVersions("");
  if (!rows.ok()) return Fail(rows.status());
  if (globals.json) {
    PrintJson({{"versions", rows->size()}});
  } else {
    std::cout << "model_versions rebuilt from " << registry->dir().string() << ": " << rows->size()
              << " version(s)\n";
  }
  return 0;
}

// "name@7" -> {"name", 7}; anything else is a usage error naming the text.
Result<std::pair<std::string, int64_t>> ParseVersionRef(const std::string& text) {
  const size_t at = text.find('@');
  int64_t version = 0;
  if (at != std::string::npos) {
    const std::string number = text.substr(at + 1);
    try {
      size_t used = 0;
      version = std::stoll(number, &used);
      if (used != number.size()) version = 0;
    } catch (const std::exception&) {
      version = 0;
    }
  }
  if (at == std::string::npos || version < 1) {
    return InvalidArgument("expected NAME@VERSION (e.g. liq_btc@3), got '" + text + "'");
  }
  return std::make_pair(text.substr(0, at), version);
}

nlohmann::ordered_json ModelJson(const ModelRegistry& registry, const std::string& name,
                                 Status* status) {
  auto versions = registry.Versions(name);
  auto aliases = registry.Aliases(name);
  if (!versions.ok() || !aliases.ok()) {
    *status = versions.ok() ? aliases.status() : versions.status();
    return {};
  }
  nlohmann::ordered_json alias_json = nlohmann::ordered_json::object();
  for (const auto& [alias, version] : *aliases) alias_json[alias] = version;
  return {{"name", name}, {"versions", *versions}, {"aliases", alias_json}};
}

int RunList(const GlobalOptions& globals) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  auto names = registry->Names();
  if (!names.ok()) return Fail(names.status());
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const std::string& name : *names) {
    Status status;
    list.push_back(ModelJson(*registry, name, &status));
    if (!status.ok()) return Fail(status);
  }
  if (globals.json) {
    PrintJson(list);
    return 0;
  }
  std::printf("%-32s %-20s %s\n", "NAME", "VERSIONS", "ALIASES");
  for (const auto& model : list) {
    std::string versions, aliases;
    for (const auto& v : model["versions"]) {
      versions += (versions.empty() ? "" : ",") + std::to_string(v.get<int64_t>());
    }
    for (const auto& [alias, v] : model["aliases"].items()) {
      aliases += (aliases.empty() ? "" : " ") + alias + "=" + std::to_string(v.get<int64_t>());
    }
    std::printf("%-32s %-20s %s\n", model["name"].get<std::string>().c_str(), versions.c_str(),
                aliases.c_str());
  }
  if (list.empty()) std::printf("(no models yet: see `vigil train`)\n");
  return 0;
}

int RunShow(const GlobalOptions& globals, const std::string& reference) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  auto manifest = registry->Show(reference);
  if (!manifest.ok()) return Fail(manifest.status());
  if (globals.json) {
    PrintJson(manifest->ToJson());
  } else {
    std::cout << manifest->ToJson().dump(2) << "\n";
  }
  return 0;
}

int RunPromote(const GlobalOptions& globals, const std::string& name, int64_t version,
               const std::string& alias) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  const Status status = registry->Promote(name, version, alias);
  if (!status.ok()) return Fail(status);
  Mirror(globals, *registry, name);
  if (globals.json) {
    PrintJson({{"name", name}, {"alias", alias}, {"version", version}});
  } else {
    std::cout << name << "@" << alias << " -> " << version << "\n";
  }
  return 0;
}

int RunRollback(const GlobalOptions& globals, const std::string& name) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  auto version = registry->Rollback(name, "production");
  if (!version.ok()) return Fail(version.status());
  Mirror(globals, *registry, name);
  if (globals.json) {
    PrintJson({{"name", name}, {"alias", "production"}, {"version", *version}});
  } else {
    std::cout << name << "@production -> " << *version << "\n";
  }
  return 0;
}

int RunDelete(const GlobalOptions& globals, const std::string& reference) {
  auto parsed = ParseVersionRef(reference);
  if (!parsed.ok()) return Fail(parsed.status());
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  const Status status = registry->Delete(parsed->first, parsed->second);
  if (!status.ok()) return Fail(status);
  Mirror(globals, *registry, parsed->first);
  if (globals.json) {
    PrintJson({{"name", parsed->first}, {"deleted", parsed->second}});
  } else {
    std::cout << "deleted " << reference << "\n";
  }
  return 0;
}

int RunPurge(const GlobalOptions& globals, const std::string& name, int keep) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  auto removed = registry->Purge(name, keep);
  if (!removed.ok()) return Fail(removed.status());
  Mirror(globals, *registry, name);
  if (globals.json) {
    PrintJson({{"name", name}, {"deleted", *removed}});
  } else {
    std::cout << "purged " << removed->size() << " version(s) of " << name << "\n";
  }
  return 0;
}

}  // namespace

void AddModelsCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* models = app.add_subcommand("models", "List, inspect, promote and retire models");
  models->require_subcommand(1);

  models->add_subcommand("list", "Every model with its versions and aliases")
      ->callback([&globals, exit_code] { *exit_code = RunList(globals); });

  auto reference = std::make_shared<std::string>();
  CLI::App* show = models->add_subcommand("show", "A model version's manifest");
  show->add_option("MODEL", *reference, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  show->callback([&globals, reference, exit_code] { *exit_code = RunShow(globals, *reference); });

  auto name = std::make_shared<std::string>();
  auto version = std::make_shared<int64_t>(0);
  auto alias = std::make_shared<std::string>("production");
  CLI::App* promote = models->add_subcommand("promote", "Point an alias at a version");
  promote->add_option("NAME", *name, "Model name")->required();
  promote->add_option("VERSION", *version, "Version number")->required();
  promote->add_option("--alias", *alias, "Alias to move")->capture_default_str();
  promote->callback([&globals, name, version, alias, exit_code] {
    *exit_code = RunPromote(globals, *name, *version, *alias);
  });

  auto rollback_name = std::make_shared<std::string>();
  CLI::App* rollback = models->add_subcommand(
      "rollback", "Move production back to the version it pointed to before");
  rollback->add_option("NAME", *rollback_name, "Model name")->required();
  rollback->callback(
      [&globals, rollback_name, exit_code] { *exit_code = RunRollback(globals, *rollback_name); });

  auto doomed = std::make_shared<std::string>();
  CLI::App* remove = models->add_subcommand("delete", "Delete a version (refused while aliased)");
  remove->add_option("MODEL", *doomed, "NAME@VERSION")->required();
  remove->callback([&globals, doomed, exit_code] { *exit_code = RunDelete(globals, *doomed); });

  auto purge_name = std::make_shared<std::string>();
  auto keep = std::make_shared<int>(5);
  CLI::App* purge =
      models->add_subcommand("purge", "Delete all but the newest N versions and aliased ones");
  purge->add_option("NAME", *purge_name, "Model name")->required();
  purge->add_option("--keep", *keep, "Versions to keep")->required()->check(CLI::NonNegativeNumber);
  models->add_subcommand("sync", "Rebuild the model_versions table from the model files")
      ->callback([&globals, exit_code] { *exit_code = RunSync(globals); });

  purge->callback([&globals, purge_name, keep, exit_code] {
    *exit_code = RunPurge(globals, *purge_name, *keep);
  });
}

}  // namespace vigil::cli
