#pragma once

#include <spdlog/formatter.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::core {

/// One structured field of a log line: `correlationId`, `userId`, `event`, `durationMs`...
struct LogField {
    std::string_view key; ///< a literal: it outlives the line
    std::string value;
    bool number = false; ///< written without quotes in JSON
};

/// The fields of the log lines this thread writes while it lives (RAII; nests). The JSON log
/// format writes each as a key of the line's object; the text format leaves the line as it is.
class LogFields {
public:
    LogFields(std::initializer_list<LogField> fields);
    ~LogFields();
    LogFields(const LogFields&) = delete;
    LogFields& operator=(const LogFields&) = delete;

private:
    std::size_t count_;
};

/// The fields in scope on the calling thread, outermost first.
const std::vector<LogField>& currentLogFields();

/// A log line as one JSON object: {"time","level","message", then the fields in scope}, each
/// value escaped as JSON strings are.
class JsonLogFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;
};

/// Appends `text` to `out` as a JSON string's content (no quotes): escapes quotes, backslashes
/// and control characters; invalid UTF-8 passes as it is.
void appendJsonEscaped(std::string& out, std::string_view text);

} // namespace parley::core
