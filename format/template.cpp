#include "format/template.h"

#include "format/go_print.h"

namespace imgbuild::format {
namespace {

struct ExecFailure {
  size_t pos;
  std::string at;
  std::string message;
};

class Executor {
 public:
  Executor(std::string_view text, const std::string& name, Functions functions)
      : text_(text), name_(name), functions_(functions) {}

  std::string run(const std::vector<Node>& nodes, const nlohmann::json& data) {
    vars_.emplace_back("$", data);
    walk_list(nodes, data);
    return std::move(out_);
  }

  std::string position(size_t pos) const {
    pos = std::min(pos, text_.size());
    std::string_view before = text_.substr(0, pos);
    size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    size_t nl = before.rfind('\n');
    size_t col = nl == std::string_view::npos ? pos : pos - nl - 1;
    return std::to_string(line) + ":" + std::to_string(col);
  }

 private:
  void walk_list(const std::vector<Node>& list, const nlohmann::json& dot) {
    for (const auto& node : list) walk(node, dot);
  }

  void walk(const Node& node, const nlohmann::json& dot) {
    switch (node.kind) {
      case Node::Kind::kText: out_ += node.text; return;
      case Node::Kind::kAction: {
        nlohmann::json value = eval_pipeline(node.pipeline, dot);
        if (node.pipeline.declare.empty())
          out_ += value.is_null() ? "<no value>" : go_sprint(value);
        return;
      }
      case Node::Kind::kIf:
      case Node::Kind::kWith: {
        size_t mark = vars_.size();
        nlohmann::json value = eval_pipeline(node.pipeline, dot);
        if (go_truth(value)) {
          walk_list(node.list, node.kind == Node::Kind::kWith ? value : dot);
        } else {
          walk_list(node.else_list, dot);
        }
        vars_.resize(mark);
        return;
      }
      case Node::Kind::kRange: walk_range(node, dot); return;
    }
  }

  void walk_range(const Node& node, const nlohmann::json& dot) {
    size_t mark = vars_.size();
    Pipeline pipe = node.pipeline;
    std::vector<std::string> names = std::move(pipe.declare);
    pipe.declare.clear();
    nlohmann::json value = eval_pipeline(pipe, dot);
    auto one = [&](const nlohmann::json& key, const nlohmann::json& element) {
      if (names.size() == 1) vars_.emplace_back(names[0], element);
      if (names.size() == 2) {
        vars_.emplace_back(names[0], key);
        vars_.emplace_back(names[1], element);
      }
      walk_list(node.list, element);
      vars_.resize(mark);
    };
    if (value.is_array() && !value.empty()) {
      for (size_t i = 0; i < value.size(); ++i) one(static_cast<int64_t>(i), value[i]);
    } else if (value.is_object() && !value.empty()) {
      for (const auto& [k, v] : value.items()) one(k, v);
    } else if (value.is_number_integer() && value.get<int64_t>() > 0) {
      for (int64_t i = 0; i < value.get<int64_t>(); ++i) one(i, i);
    } else if (value.is_null() || value.is_array() || value.is_object() ||
               value.is_number_integer()) {
      walk_list(node.else_list, dot);
    } else {
      throw ExecFailure{node.pos, "range", "range can't iterate over " + go_sprint(value)};
    }
    vars_.resize(mark);
  }

  nlohmann::json eval_pipeline(const Pipeline& pipe, const nlohmann::json& dot) {
    nlohmann::json value;
    bool have = false;
    for (const auto& cmd : pipe.commands) {
      value = eval_command(cmd, dot, have ? &value : nullptr);
      have = true;
    }
    for (const auto& name : pipe.declare) {
      if (pipe.assign) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == name) {
            it->second = value;
            break;
          }
        }
      } else {
        vars_.emplace_back(name, value);
      }
    }
    return value;
  }

  nlohmann::json eval_command(const Command& cmd, const nlohmann::json& dot,
                              const nlohmann::json* final) {
    const Arg& first = cmd.args.front();
    if (first.kind == Arg::Kind::kFunction) {
      std::vector<nlohmann::json> args;
      for (size_t i = 1; i < cmd.args.size(); ++i) args.push_back(eval_arg(cmd.args[i], dot));
      if (final != nullptr) args.push_back(*final);
      auto r = call_template_function(first.name, args, functions_);
      if (!r)
        throw ExecFailure{first.pos, first.text,
                          "error calling " + first.name + ": " + r.error().message()};
      return chain(std::move(*r), first);
    }
    if (cmd.args.size() > 1 || final != nullptr) {
      throw ExecFailure{first.pos, first.text, "can't give argument to non-function " + first.text};
    }
    return eval_arg(first, dot);
  }

  nlohmann::json eval_arg(const Arg& arg, const nlohmann::json& dot) {
    switch (arg.kind) {
      case Arg::Kind::kDot: return chain(dot, arg);
      case Arg::Kind::kField: return chain(dot, arg);
      case Arg::Kind::kLiteral: return arg.literal;
      case Arg::Kind::kVariable:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == arg.name) return chain(it->second, arg);
        }
        throw ExecFailure{arg.pos, arg.text, "undefined variable: " + arg.name};
      case Arg::Kind::kFunction: {
        auto r = call_template_function(arg.name, {}, functions_);
        if (!r)
          throw ExecFailure{arg.pos, arg.text,
                            "error calling " + arg.name + ": " + r.error().message()};
        return *r;
      }
      case Arg::Kind::kPipeline: return chain(eval_pipeline(*arg.pipeline, dot), arg);
    }
    return nullptr;
  }

  nlohmann::json chain(nlohmann::json value, const Arg& arg) {
    for (const auto& field : arg.chain) {
      if (value.is_object()) {
        auto it = value.find(field);
        if (it == value.end()) return nullptr;
        nlohmann::json inner = *it;
        value = std::move(inner);
      } else if (value.is_null()) {
        return nullptr;
      } else {
        throw ExecFailure{arg.pos, arg.text,
                          "can't evaluate field " + field + " in type " + go_type_name(value)};
      }
    }
    return value;
  }

  std::string_view text_;
  const std::string& name_;
  Functions functions_;
  std::vector<std::pair<std::string, nlohmann::json>> vars_;
  std::string out_;
};

}  // namespace

bool go_truth(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return false;
    case nlohmann::json::value_t::boolean: return v.get<bool>();
    case nlohmann::json::value_t::number_integer: return v.get<int64_t>() != 0;
    case nlohmann::json::value_t::number_unsigned: return v.get<uint64_t>() != 0;
    case nlohmann::json::value_t::number_float: return v.get<double>() != 0;
    case nlohmann::json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object: return !v.empty();
    default: return true;
  }
}

Result<Template> Template::parse(std::string_view text, std::string name) {
  auto nodes = TRY(parse_template(text, name));
  return Template(std::string(text), std::move(name), std::move(nodes));
}

Result<std::string> Template::execute(const nlohmann::json& data, Functions functions) const {
  Executor exec(text_, name_, functions);
  try {
    return exec.run(nodes_, data);
  } catch (const ExecFailure& f) {
    return fail(ErrorKind::kInvalidArgument, "template: " + name_ + ":" + exec.position(f.pos) +
                                                 ": executing \"" + name_ + "\" at <" + f.at +
                                                 ">: " + f.message);
  }
}

}  // namespace imgbuild::format
