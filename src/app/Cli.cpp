#include "app/Cli.hpp"

#include "app/ChatStack.hpp"
#include "app/Config.hpp"
#include "auth/Jwt.hpp"
#include "auth/PasswordHash.hpp"
#include "chat/ChatService.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"
#include "store/ChatStore.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <boost/json/serialize.hpp>
#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley::app {

namespace {

// Takes the command's own flags out of argv; the rest are serve flags (--data-dir, ...).
struct Args {
    std::multimap<std::string, std::string> own;
    Config config;

    Args(int argc, char** argv, std::initializer_list<const char*> names) {
        std::vector<char*> rest;
        for (int i = 0; i < argc; ++i) {
            std::string arg = argv[i];
            bool taken = false;
            for (const char* name : names) {
                const std::string flag = std::string("--") + name;
                if (arg == flag && i + 1 < argc) {
                    own.emplace(name, argv[++i]);
                    taken = true;
                } else if (arg.starts_with(flag + "=")) {
                    own.emplace(name, arg.substr(flag.size() + 1));
                    taken = true;
                }
                if (taken) break;
            }
            if (!taken) rest.push_back(argv[i]);
        }
        config = parseConfig(static_cast<int>(rest.size()), rest.data());
        if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
        // stdout carries the command's answer (JSON, a token); logs go to stderr.
        spdlog::set_default_logger(spdlog::stderr_logger_mt("parley-cli"));
        spdlog::set_level(spdlog::level::from_str(config.logLevel));
    }
    std::string get(const char* name, bool required = true) const {
        auto it = own.find(name);
        if (it == own.end()) {
            if (required) throw std::invalid_argument(std::string("--") + name + " is required");
            return {};
        }
        return it->second;
    }
    std::vector<std::string> all(const char* name) const {
        std::vector<std::string> out;
        auto [b, e] = own.equal_range(name);
        for (auto it = b; it != e; ++it) out.push_back(it->second);
        return out;
    }
};

void print(const boost::json::value& v) { std::printf("%s\n", boost::json::serialize(v).c_str()); }

// Runs one store operation and waits for its answer (the CLI has no io threads of its own).
// `ctx` must be declared before the store, so that it outlives the store's threads: the one that
// posts the answer may still be inside that post() when this thread has run it.
template <class T>
store::Result<T> waitFor(boost::asio::io_context& ctx,
                         const std::function<void(boost::asio::io_context&, store::Done<T>)>& start) {
    auto guard = boost::asio::make_work_guard(ctx);
    std::optional<store::Result<T>> out;
    start(ctx, [&](store::Result<T> result) {
        out = std::move(result);
        guard.reset();
    });
    ctx.run();
    return std::move(*out);
}

} // namespace

int runUserAdd(int argc, char** argv) {
    Args args(argc, argv, {"email", "password", "name"});
    std::string email = args.get("email");
    std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string password = args.get("password");
    if (email.find('@') == std::string::npos) throw std::invalid_argument("--email: not an email address");
    if (password.size() < 8) throw std::invalid_argument("--password: at least 8 characters");
    store::User user;
    user.id = core::ObjectId::generate();
    user.email = email;
    user.displayName = args.get("name", false);
    if (user.displayName.empty()) user.displayName = email.substr(0, email.find('@'));
    user.passwordHash = auth::hashPassword(password);
    user.createdAt = core::nowMs();
    boost::asio::io_context answers;
    auto store = openStore(args.config);
    auto created = waitFor<void>(answers, [&](auto& ctx, auto done) { store->createUser(ctx, user, std::move(done)); });
    if (!created)
        throw std::runtime_error(created.error() == store::Errc::Duplicate
                                     ? "email already registered"
                                     : "cannot store the user: " + created.error().message());
    print(boost::json::object{{"_id", user.id}, {"email", user.email}, {"displayName", user.displayName}});
    return 0;
}

int runToken(int argc, char** argv) {
    Args args(argc, argv, {"user", "ttl"});
    const std::string user = args.get("user");
    if (!core::ObjectId::isValid(user)) throw std::invalid_argument("--user: must be a 24-character hex ObjectId");
    long ttl = 24 * 3600;
    if (auto t = args.get("ttl", false); !t.empty()) ttl = std::stol(t);
    const std::string secret = resolveJwtSecret(args.config, true);
    if (secret.empty()) throw std::invalid_argument("tokens can only be signed with an HS256 secret");
    std::printf(
        "%s\n",
        auth::signJwt(secret, user, std::chrono::seconds(ttl), args.config.jwtIssuer, args.config.jwtAudience).c_str());
    return 0;
}

int runChatCreate(int argc, char** argv) {
    Args args(argc, argv, {"type", "title", "created-by", "member"});
    store::Chat chat;
    chat.type = args.get("type");
    if (chat.type != "dm" && chat.type != "group") throw std::invalid_argument("--type: dm or group");
    chat.createdBy = args.get("created-by");
    if (!core::ObjectId::isValid(chat.createdBy)) throw std::invalid_argument("--created-by: not an ObjectId");
    if (auto title = args.get("title", false); !title.empty()) chat.title = title;
    chat.memberIds.push_back(chat.createdBy);
    for (const auto& m : args.all("member")) {
        if (!core::ObjectId::isValid(m)) throw std::invalid_argument("--member: not an ObjectId: " + m);
        if (std::find(chat.memberIds.begin(), chat.memberIds.end(), m) == chat.memberIds.end())
            chat.memberIds.push_back(m);
    }
    if (chat.type == "dm" && chat.memberIds.size() != 2)
        throw std::invalid_argument("a dm has exactly two members (--created-by and one --member)");
    chat.id = core::ObjectId::generate();
    chat.createdAt = chat.updatedAt = core::nowMs();
    boost::asio::io_context answers;
    auto store = openStore(args.config);
    auto created =
        waitFor<store::Chat>(answers, [&](auto& ctx, auto done) { store->createChat(ctx, chat, std::move(done)); });
    if (!created) throw std::runtime_error("cannot store the chat: " + created.error().message());
    print(chat::ChatService::chatJson(*created));
    return 0;
}

int runMigrate(int argc, char** argv) {
    Args args(argc, argv, {});
    auto store = openStore(args.config); // opening migrates
    std::printf("database %s is up to date\n", args.config.storeDescription().c_str());
    return 0;
}

} // namespace parley::app
