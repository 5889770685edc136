#include "vigil/features/spec.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdio>
#include <set>

#include "vigil/core/text_file.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/catalogue.h"

namespace vigil {
namespace {

// "<source>:<line>: <key>: <problem>"
Status SpecError(const std::string& source, const YAML::Node& node, const std::string& key,
                 const std::string& problem) {
  const int line = node.IsDefined() && !node.IsNull() ? node.Mark().line + 1 : 0;
  return InvalidArgument(source + ":" + std::to_string(line) + ": " + key + ": " + problem);
}

Result<std::vector<std::string>> ScalarList(const std::string& source, const YAML::Node& node,
                                            const std::string& key) {
  std::vector<std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
  if (!node.IsSequence()) return SpecError(source, node, key, "expected a list");
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) return SpecError(source, item, key, "expected a list of values");
    out.push_back(item.Scalar());
  }
  return out;
}

Status CheckKeys(const std::string& source, const YAML::Node& map, const std::string& where,
                 const std::set<std::string>& allowed) {
  for (const auto& item : map) {
    const std::string key = item.first.Scalar();
    if (allowed.count(key) == 0) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return SpecError(source, item.first, where + key, "unknown key (expected " + list + ")");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ParseTimeframes(const std::string& source, const YAML::Node& node,
                                                 const std::string& key) {
  VIGIL_ASSIGN_OR_RETURN(auto texts, ScalarList(source, node, key));
  std::vector<std::string> out;
  for (const std::string& text : texts) {
    Result<int64_t> nanos = ParseDuration(text);
    if (!nanos.ok() || *nanos <= 0) {
      return SpecError(source, node, key, "'" + text + "' is not a timeframe like 5m or 1h");
    }
    out.push_back(FormatDuration(*nanos));
  }
  return out;
}

Result<std::vector<std::string>> ParseInstruments(const std::string& source, const YAML::Node& node,
                                                  const std::string& key) {
  VIGIL_ASSIGN_OR_RETURN(auto texts, ScalarList(source, node, key));
  if (texts.empty()) return std::vector<std::string>{""};
  std::vector<std::string> out;
  for (const std::string& text : texts) {
    if (text == "self") {
      out.emplace_back();
      continue;
    }
    Result<Instrument> instrument = Instrument::Parse(text);
    if (!instrument.ok()) {
      return SpecError(source, node, key, instrument.status().message());
    }
    out.push_back(instrument->ToString());
  }
  return out;
}

Result<std::vector<int>> ParseShifts(const std::string& source, const YAML::Node& node,
                                     const std::string& key) {
  VIGIL_ASSIGN_OR_RETURN(auto texts, ScalarList(source, node, key));
  std::vector<int> out;
  for (const std::string& text : texts) {
    int value = 0;
    if (std::sscanf(text.c_str(), "%d", &value) != 1 || std::to_string(value) != text ||
        value < 1 || value > 100000) {
      return SpecError(source, node, key, "expected whole numbers >= 1, got '" + text + "'");
    }
    out.push_back(value);
  }
  return out;
}

// "kind" or "kind.field" -> canonical "kind.field" ("" for candles' close, the default of
// price features). The field defaults to the kind's first double field.
Result<std::string> ResolveSource(const std::string& text) {
  const size_t dot = text.find('.');
  VIGIL_ASSIGN_OR_RETURN(DataKind kind, ParseDataKind(text.substr(0, dot)));
  const KindSchema& schema = SchemaOf(kind);
  std::string field;
  if (dot != std::string::npos) {
    field = text.substr(dot + 1);
  } else {
    for (const FieldSpec& spec : schema.fields) {
      if (spec.type == ColumnType::kDouble) {
        field = std::string(spec.name);
        break;
      }
    }
  }
  const int index = FieldIndex(schema, field);
  if (index < 0 || schema.fields[index].type != ColumnType::kDouble) {
    std::string fields;
    for (const FieldSpec& spec : schema.fields) {
      if (spec.type == ColumnType::kDouble)
        fields += (fields.empty() ? "" : ", ") + std::string(spec.name);
    }
    return InvalidArgument("'" + field + "' is not a numeric field of " + std::string(schema.name) +
                           " (" + fields + ")");
  }
  if (kind == DataKind::kCandles && field == "close") return std::string();
  return std::string(schema.name) + "." + field;
}

Result<FeatureEntry> ParseEntry(const std::string& source, const YAML::Node& node, size_t index) {
  const std::string where = "features[" + std::to_string(index) + "]";
  if (!node.IsMap()) return SpecError(source, node, where, "expected a map with 'feature:'");
  VIGIL_RETURN_IF_ERROR(
      CheckKeys(source, node, where + ".",
                {"feature", "params", "source", "timeframes", "instruments", "shifts"}));
  FeatureEntry entry;
  entry.line = node.Mark().line + 1;
  const YAML::Node name = node["feature"];
  if (!name.IsDefined() || !name.IsScalar()) {
    return SpecError(source, node, where + ".feature", "missing feature name");
  }
  entry.feature = name.Scalar();
  const FeatureInfo* info = FindFeature(entry.feature);
  if (info == nullptr) {
    return SpecError(source, name, where + ".feature",
                     "unknown feature '" + entry.feature + "' (see `vigil features list`)");
  }
  std::map<std::string, std::string> given;
  const YAML::Node params = node["params"];
  if (params.IsDefined() && !params.IsNull()) {
    if (!params.IsMap()) return SpecError(source, params, where + ".params", "expected a map");
    for (const auto& item : params) {
      if (!item.second.IsScalar()) {
        return SpecError(source, item.second, where + ".params." + item.first.Scalar(),
                         "expected a single value");
      }
      given[item.first.Scalar()] = item.second.Scalar();
    }
  }
  Result<ParamValues> values = info->Resolve(given);
  if (!values.ok()) return SpecError(source, node, where + ".params", values.status().message());
  for (const std::string& pair : values->canonical()) {
    const size_t eq = pair.find('=');
    entry.params[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  const YAML::Node source_node = node["source"];
  if (source_node.IsDefined() && !source_node.IsNull()) {
    if (!source_node.IsScalar()) {
      return SpecError(source, source_node, where + ".source", "expected kind or kind.field");
    }
    Result<std::string> resolved = ResolveSource(source_node.Scalar());
    if (!resolved.ok()) {
      return SpecError(source, source_node, where + ".source", resolved.status().message());
    }
    entry.source = *resolved;
  }
  Result<std::unique_ptr<EventKernel>> kernel = MakeEntryKernel(entry);
  if (!kernel.ok()) {
    const YAML::Node at = entry.source.empty() ? node : source_node;
    return SpecError(source, at, where + (entry.source.empty() ? "" : ".source"),
                     kernel.status().message());
  }
  entry.outputs = (*kernel)->output_names();
  VIGIL_ASSIGN_OR_RETURN(entry.timeframes,
                         ParseTimeframes(source, node["timeframes"], where + ".timeframes"));
  if (!entry.timeframes.empty()) {
    for (const KernelInput& input : (*kernel)->inputs()) {
      if (input.kind != DataKind::kCandles || !input.instrument.empty()) {
        return SpecError(source, node["timeframes"], where + ".timeframes",
                         "only features of an instrument's own candles take timeframes");
      }
    }
  }
  VIGIL_ASSIGN_OR_RETURN(entry.instruments,
                         ParseInstruments(source, node["instruments"], where + ".instruments"));
  VIGIL_ASSIGN_OR_RETURN(entry.shifts, ParseShifts(source, node["shifts"], where + ".shifts"));
  return entry;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

std::array<unsigned char, 32> Sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

Result<std::unique_ptr<EventKernel>> MakeEntryKernel(const FeatureEntry& entry) {
  const FeatureInfo* info = FindFeature(entry.feature);
  if (info == nullptr) return NotFound("unknown feature '" + entry.feature + "'");
  VIGIL_ASSIGN_OR_RETURN(ParamValues values, info->Resolve(entry.params));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<EventKernel> kernel, info->make(values));
  if (entry.source.empty()) return kernel;
  if (kernel->bar_kernel() == nullptr) {
    return InvalidArgument("only price/volume features take a source; '" + entry.feature +
                           "' reads " + std::string(KindName(kernel->inputs()[0].kind)));
  }
  const size_t dot = entry.source.find('.');
  VIGIL_ASSIGN_OR_RETURN(DataKind kind, ParseDataKind(entry.source.substr(0, dot)));
  const int field = FieldIndex(SchemaOf(kind), entry.source.substr(dot + 1));
  if (field < 0 || SchemaOf(kind).fields[field].type != ColumnType::kDouble) {
    return InvalidArgument("source '" + entry.source + "' is not a numeric field");
  }
  return MakeFieldKernel(kernel->bar_kernel()->Clone(), kind, field);
}

std::string FeatureSetSpec::CanonicalText() const {
  std::string text = "vigil-feature-set/" + std::to_string(kFeatureDefinitionVersion) + "\n";
  text += "driver=" + std::string(KindName(driver)) + "\n";
  for (const FeatureEntry& entry : entries) {
    std::vector<std::string> params;
    for (const auto& [key, value] : entry.params) params.push_back(key + "=" + value);
    std::vector<std::string> shifts;
    for (int shift : entry.shifts) shifts.push_back(std::to_string(shift));
    const std::string source = entry.source.empty() ? "" : ";source=" + entry.source;
    text += "feature=" + entry.feature + source + ";params=" + Join(params, ",") +
            ";timeframes=" + Join(entry.timeframes, ",") +
            ";instruments=" + Join(entry.instruments, ",") + ";shifts=" + Join(shifts, ",") + "\n";
  }
  return text;
}

uint64_t FeatureSetSpec::SpecHash() const {
  const auto digest = Sha256(CanonicalText());
  uint64_t hash = 0;
  for (int i = 0; i < 8; ++i) hash = (hash << 8) | digest[i];
  return hash;
}

std::string FeatureSetSpec::SpecHashHex() const {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(SpecHash()));
  return buffer;
}

std::vector<std::string> FeatureSetSpec::Columns() const {
  std::vector<std::string> columns;
  for (const FeatureEntry& entry : entries) {
    const std::vector<std::string> timeframes =
        entry.timeframes.empty() ? std::vector<std::string>{""} : entry.timeframes;
    for (const std::string& instrument : entry.instruments) {
      const std::string at = instrument.empty() ? "" : "@" + instrument;
      for (const std::string& tf : timeframes) {
        const std::string suffix = tf.empty() ? "" : "_" + tf;
        for (const std::string& out : entry.outputs) columns.push_back(out + suffix + at);
        for (int shift : entry.shifts) {
          for (const std::string& out : entry.outputs) {
            columns.push_back(out + suffix + "_lag" + std::to_string(shift) + at);
          }
        }
      }
    }
  }
  return columns;
}

Result<FeatureSetSpec> ParseFeatureSetSpec(std::string_view yaml_text, std::string_view source) {
  const std::string src(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(src + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return InvalidArgument(src + ": expected a map with 'features:'");
  VIGIL_RETURN_IF_ERROR(CheckKeys(src, root, "", {"name", "description", "driver", "features"}));
  FeatureSetSpec spec;
  spec.source = src;
  spec.name = root["name"].IsScalar() ? root["name"].Scalar() : "";
  if (spec.name.empty()) return SpecError(src, root, "name", "a feature set needs a name");
  const YAML::Node features = root["features"];
  if (!features.IsSequence() || features.size() == 0) {
    return SpecError(src, features.IsDefined() ? features : root, "features",
                     "expected a non-empty list of features");
  }
  for (size_t i = 0; i < features.size(); ++i) {
    VIGIL_ASSIGN_OR_RETURN(FeatureEntry entry, ParseEntry(src, features[i], i));
    spec.entries.push_back(std::move(entry));
  }
  const YAML::Node driver = root["driver"];
  if (driver.IsDefined() && !driver.IsNull()) {
    Result<DataKind> kind = ParseDataKind(driver.Scalar());
    if (!kind.ok()) return SpecError(src, driver, "driver", kind.status().message());
    spec.driver = *kind;
  } else {
    Result<std::unique_ptr<EventKernel>> first = MakeEntryKernel(spec.entries.front());
    spec.driver = first.ok() ? (*first)->inputs()[0].kind : DataKind::kCandles;
  }
  std::set<std::string> seen;
  for (const std::string& column : spec.Columns()) {
    if (!seen.insert(column).second) {
      return SpecError(src, features, "features", "column '" + column + "' is produced twice");
    }
  }
  return spec;
}

Result<FeatureSetSpec> LoadFeatureSetSpec(const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseFeatureSetSpec(text, path);
}

}  // namespace vigil
