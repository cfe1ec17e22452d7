#include "http/RestApi.hpp"

#include "auth/Jwt.hpp"
#include "auth/PasswordHash.hpp"
#include "auth/SessionTokens.hpp"
#include "chat/ErrorReply.hpp"
#include "chat/Payloads.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace parley::http {

namespace bhttp = boost::beast::http;
using chat::ErrorCode;
using ConnPtr = std::shared_ptr<net::HttpConnection>;
using core::ObjectId;

namespace {

using chat::kNotMemberMessage;

// Everything a handler needs to answer its request, on its own io thread.
struct Call {
    ConnPtr conn;
    unsigned version = 11;
    std::string context; // for error logs: "POST /v1/chats"
    CorsHeaders cors;    // what the request's Origin may see (Router::cors)

    void reply(bhttp::status status, const boost::json::value& body, std::int64_t retryAfterSeconds = 0) const {
        net::Response res{status, version};
        res.set(bhttp::field::content_type, "application/json");
        cors.apply(res);
        if (retryAfterSeconds > 0) res.set(bhttp::field::retry_after, std::to_string(retryAfterSeconds));
        res.body() = boost::json::serialize(body);
        conn->respond(std::move(res));
    }
    void ok(boost::json::value data, bhttp::status status = bhttp::status::ok) const {
        reply(status, boost::json::object{{"ok", true}, {"data", std::move(data)}});
    }
    // `cause` goes to the log line that carries the correlationId, never to the client.
    void fail(ErrorCode code, std::string_view message, const std::string& cause = {}) const {
        const std::string logContext = cause.empty() ? context : context + " (" + cause + ")";
        reply(static_cast<bhttp::status>(chat::httpStatus(code)), chat::errorReply(code, message, logContext));
    }
    void internal(const std::string& error) const { fail(ErrorCode::Internal, "Internal error", error); }
    // 429 RATE_LIMITED with Retry-After: the whole seconds (at least 1) until a retry may pass.
    void rateLimited(std::string_view message, std::int64_t retryAfterMs) const {
        reply(bhttp::status::too_many_requests, chat::errorReply(ErrorCode::RateLimited, message, context),
              std::max<std::int64_t>(1, (retryAfterMs + 999) / 1000));
    }
};

Call makeCall(const ConnPtr& conn, const net::Request& req, CorsHeaders cors) {
    return Call{conn, req.version(), std::string(req.method_string()) + " " + std::string(req.target()),
                std::move(cors)};
}

std::optional<boost::json::object> parseBody(const net::Request& req) { return chat::parseJsonObject(req.body()); }

const boost::json::object* objectOrNull(const std::optional<boost::json::object>& body) {
    return body ? &*body : nullptr;
}

std::string bearerOf(const net::Request& req) {
    auto it = req.find(bhttp::field::authorization);
    if (it == req.end()) return {};
    std::string_view v = it->value();
    if (v.size() < 7 || !(v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) return {};
    return std::string(v.substr(7));
}

// The key of a client address for the login limit: an IPv4 address, or the /64 of an IPv6 one
// (what one household or host is given, so rotating within it gains nothing).
std::string loginAddressKey(const boost::asio::ip::address& ip) {
    if (ip.is_v4()) return ip.to_string();
    const auto v6 = ip.to_v6();
    if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

boost::asio::io_context& here(net::IoThreads& threads) { return threads.context(net::IoThreads::ownIndex(threads)); }

} // namespace

RestApi::RestApi(Router& router, chat::ChatService& chat, net::IoThreads& threads, RestConfig config)
    : chat_(chat), threads_(threads), config_(std::move(config)), loginThrottle_(config_.login),
      dummyHash_(auth::hashPassword(auth::newSessionToken())) {
    install(router);
}

RestApi::~RestApi() { passwordPool_.join(); }

void RestApi::install(Router& router) {
    router_ = &router;
    using Params = PathParams;
    router.allowCors("/v1/");

    // Authenticated route: resolves the bearer token, then runs fn(call, userId, req, params).
    auto authed = [this](auto fn) {
        return [this, fn](const ConnPtr& conn, net::Request&& req, Params&& params) {
            auto call = makeCall(conn, req, router_->cors(req));
            auto request = std::make_shared<net::Request>(std::move(req));
            chat_.authenticate(here(threads_), bearerOf(*request),
                               [fn, call, request, params = std::move(params)](std::optional<std::string> userId,
                                                                               std::string reason) mutable {
                                   if (!userId) return call.fail(ErrorCode::Unauthorized, reason);
                                   fn(call, *userId, *request, params);
                               });
        };
    };
    // Loads the chat and checks membership before fn(call, userId, chat).
    auto memberOf = [this](const Call& call, const std::string& userId, const std::string& chatId, auto fn) {
        if (!ObjectId::isValid(chatId))
            return call.fail(ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId");
        chat_.store().read<std::optional<store::Chat>>(
            here(threads_), [chatId](store::Store& s) { return s.findChat(chatId); },
            [call, userId, fn](std::string error, std::optional<store::Chat> c) {
                if (!error.empty()) return call.internal(error);
                if (!c || std::find(c->memberIds.begin(), c->memberIds.end(), userId) == c->memberIds.end())
                    return call.fail(ErrorCode::Forbidden, kNotMemberMessage);
                fn(*c);
            });
    };

    // --- Health ------------------------------------------------------------------------------
    router.add(bhttp::verb::get, "/healthz", [this](const ConnPtr& conn, net::Request&& req, Params&&) {
        makeCall(conn, req, router_->cors(req)).ok(boost::json::object{{"status", "ok"}});
    });
    router.add(bhttp::verb::get, "/readyz", [this](const ConnPtr& conn, net::Request&& req, Params&&) {
        auto call = makeCall(conn, req, router_->cors(req));
        // Ready when the store answers.
        chat_.store().read<bool>(
            here(threads_),
            [](store::Store& s) {
                s.findChat("000000000000000000000000");
                return true;
            },
            [call](std::string error, bool) {
                if (!error.empty()) return call.fail(ErrorCode::Internal, "store unavailable");
                call.ok(boost::json::object{{"status", "ready"}});
            });
    });

    // --- Login -------------------------------------------------------------------------------
    // Every admitted login costs one Argon2id verification on passwordPool_, unknown emails too
    // (against dummyHash_), and gets the same answer for an unknown email as for a wrong
    // password. Before any work, a login is refused with 429 RATE_LIMITED when its address or
    // account is over its limit (LoginThrottle) or when maxPendingLogins are already queued.
    router.add(bhttp::verb::post, "/v1/auth/login", [this](const ConnPtr& conn, net::Request&& req, Params&&) {
        auto call = makeCall(conn, req, router_->cors(req));
        auto login = chat::parseLoginRequest(objectOrNull(parseBody(req)));
        if (!login) return call.fail(login.error().code, login.error().message);
        auto refuse = [this, &call](std::string_view message, std::int64_t retryAfterMs) {
            if (config_.metrics) config_.metrics->loginsRefused.fetch_add(1, std::memory_order_relaxed);
            call.rateLimited(message, retryAfterMs);
        };
        if (pendingLogins_.fetch_add(1, std::memory_order_relaxed) >= config_.maxPendingLogins) {
            pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
            return refuse("Server busy, try again shortly", 1000);
        }
        // Behind a trusted proxy, the client it forwards for is the address that counts.
        const auto client = net::clientAddress(config_.peers, conn->remoteIp(), req);
        const auto verdict = loginThrottle_.admit(loginAddressKey(client), login->email, core::nowMs());
        if (!verdict) {
            pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
            return refuse(verdict.refusal == chat::LoginThrottle::Refusal::Address
                              ? "Too many login attempts from this address, try again later"
                              : "Too many failed login attempts for this account, try again later",
                          verdict.retryAfterMs);
        }
        auto& ctx = here(threads_);
        chat_.store().read<std::optional<store::User>>(
            ctx, [email = login->email](store::Store& s) { return s.findUserByEmail(email); },
            [this, call, &ctx, email = login->email,
             password = std::move(login->password)](std::string error, std::optional<store::User> user) {
                if (!error.empty()) {
                    pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
                    return call.internal(error);
                }
                boost::asio::post(passwordPool_, [this, call, &ctx, email, password, user = std::move(user)] {
                    const bool matches = auth::verifyPassword(user ? user->passwordHash : dummyHash_, password);
                    const bool good = user && matches;
                    if (config_.metrics) config_.metrics->passwordHashes.fetch_add(1, std::memory_order_relaxed);
                    pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
                    boost::asio::post(ctx, [this, call, &ctx, good, email, user] {
                        if (!good) return call.fail(ErrorCode::Unauthorized, "Wrong email or password");
                        loginThrottle_.succeeded(email);
                        const std::string sessionToken = auth::newSessionToken();
                        const auto now = core::nowMs();
                        store::SessionRow row{
                            auth::hashSessionToken(sessionToken), user->id, now,
                            now + std::chrono::duration_cast<std::chrono::milliseconds>(config_.sessionTtl).count()};
                        chat_.store().write<bool>(
                            ctx,
                            [row](store::Store& s) {
                                s.insertSession(row);
                                return true;
                            },
                            [this, call, user = *user, sessionToken](std::string err, bool) {
                                if (!err.empty()) return call.internal(err);
                                boost::json::value token = nullptr;
                                if (!config_.jwtSecret.empty())
                                    token = auth::signJwt(config_.jwtSecret, user.id, config_.tokenTtl,
                                                          config_.jwtIssuer, config_.jwtAudience);
                                call.ok(boost::json::object{
                                    {"token", token},
                                    {"sessionToken", sessionToken},
                                    {"user", boost::json::object{{"_id", user.id},
                                                                 {"email", user.email},
                                                                 {"displayName", user.displayName}}}});
                            });
                    });
                });
            });
    });

    // Logout: deletes the session of the bearer session token, and disconnects every socket that
    // connected with it. A JWT cannot be revoked here (it is stateless and expires on its own).
    router.add(bhttp::verb::post, "/v1/auth/logout",
               authed([this](const Call& call, const std::string&, const net::Request& req, const Params&) {
                   const std::string token = bearerOf(req);
                   if (!auth::looksLikeSessionToken(token))
                       return call.fail(ErrorCode::ValidationError, "Only a session token can be logged out");
                   const std::string hash = auth::hashSessionToken(token);
                   chat_.store().write<bool>(
                       here(threads_), [hash](store::Store& s) { return s.deleteSession(hash); },
                       [this, call, hash](std::string error, bool deleted) {
                           if (!error.empty()) return call.internal(error);
                           // A concurrent logout of the same session got there first.
                           if (!deleted) return call.fail(ErrorCode::Unauthorized, "Unknown session");
                           chat_.disconnectSession(hash);
                           call.ok(boost::json::object{});
                       });
               }));

    // --- Chats -------------------------------------------------------------------------------
    router.add(bhttp::verb::get, "/v1/chats",
               authed([this](const Call& call, const std::string& userId, const net::Request&, const Params&) {
                   struct Row {
                       store::Chat chat;
                       std::int64_t unread = 0;
                   };
                   chat_.store().read<std::vector<Row>>(
                       here(threads_),
                       [userId](store::Store& s) {
                           std::vector<Row> rows;
                           for (auto& c : s.chatsOfUser(userId)) {
                               const auto unread = s.unreadCount(c.id, userId);
                               rows.push_back(Row{std::move(c), unread});
                           }
                           return rows;
                       },
                       [call](std::string error, std::vector<Row> rows) {
                           if (!error.empty()) return call.internal(error);
                           boost::json::array out;
                           for (const auto& r : rows) {
                               auto o = chat::ChatService::chatJson(r.chat);
                               o["unreadCount"] = r.unread;
                               out.push_back(std::move(o));
                           }
                           call.ok(std::move(out));
                       });
               }));

    router.add(bhttp::verb::post, "/v1/chats",
               authed([this](const Call& call, const std::string& userId, const net::Request& req, const Params&) {
                   auto request = chat::parseNewChatRequest(objectOrNull(parseBody(req)), userId);
                   if (!request) return call.fail(request.error().code, request.error().message);
                   store::Chat c;
                   c.type = std::move(request->type);
                   c.title = std::move(request->title);
                   c.memberIds = std::move(request->memberIds);
                   c.id = ObjectId::generate();
                   c.createdBy = userId;
                   c.createdAt = c.updatedAt = core::nowMs();
                   chat_.store().write<bool>(
                       here(threads_),
                       [c](store::Store& s) {
                           s.insertChat(c);
                           return true;
                       },
                       [this, call, c](std::string error, bool) {
                           if (!error.empty()) return call.internal(error);
                           chat_.emitChatUpdate(c);
                           call.ok(chat::ChatService::chatJson(c), bhttp::status::created);
                       });
               }));

    router.add(bhttp::verb::get, "/v1/chats/:chatId",
               authed([memberOf](const Call& call, const std::string& userId, const net::Request&, const Params& p) {
                   memberOf(call, userId, p[0],
                            [call](const store::Chat& c) { call.ok(chat::ChatService::chatJson(c)); });
               }));

    router.add(
        bhttp::verb::patch, "/v1/chats/:chatId",
        authed([this, memberOf](const Call& call, const std::string& userId, const net::Request& req, const Params& p) {
            auto update = chat::parseTitleUpdate(objectOrNull(parseBody(req)));
            if (!update) return call.fail(update.error().code, update.error().message);
            memberOf(call, userId, p[0], [this, call, title = std::move(*update)](store::Chat c) {
                c.title = title;
                c.updatedAt = core::nowMs();
                chat_.store().write<bool>(
                    here(threads_),
                    [c](store::Store& s) {
                        s.setTitle(c.id, c.title, c.updatedAt);
                        return true;
                    },
                    [this, call, c](std::string error, bool) {
                        if (!error.empty()) return call.internal(error);
                        chat_.emitChatUpdate(c);
                        call.ok(chat::ChatService::chatJson(c));
                    });
            });
        }));

    router.add(
        bhttp::verb::post, "/v1/chats/:chatId/members",
        authed([this, memberOf](const Call& call, const std::string& userId, const net::Request& req, const Params& p) {
            auto newMember = chat::parseNewMember(objectOrNull(parseBody(req)));
            if (!newMember) return call.fail(newMember.error().code, newMember.error().message);
            memberOf(call, userId, p[0], [this, call, newMember = std::move(*newMember)](store::Chat c) {
                if (c.type == "dm") return call.fail(ErrorCode::ValidationError, "a dm has exactly two members");
                if (std::find(c.memberIds.begin(), c.memberIds.end(), newMember) != c.memberIds.end())
                    return call.ok(chat::ChatService::chatJson(c));
                if (c.memberIds.size() >= chat::kMaxChatMembers)
                    return call.fail(ErrorCode::ValidationError, "at most 1000 members");
                c.memberIds.push_back(newMember);
                c.updatedAt = core::nowMs();
                chat_.store().write<bool>(
                    here(threads_),
                    [c, newMember](store::Store& s) { return s.addMember(c.id, newMember, c.updatedAt); },
                    [this, call, c](std::string error, bool) {
                        if (!error.empty()) return call.internal(error);
                        chat_.emitChatUpdate(c);
                        call.ok(chat::ChatService::chatJson(c));
                    });
            });
        }));

    router.add(
        bhttp::verb::delete_, "/v1/chats/:chatId/members/:userId",
        authed([this, memberOf](const Call& call, const std::string& userId, const net::Request&, const Params& p) {
            const std::string removed = p[1];
            if (!ObjectId::isValid(removed))
                return call.fail(ErrorCode::ValidationError, "userId must be a 24-character hex ObjectId");
            memberOf(call, userId, p[0], [this, call, removed](store::Chat c) {
                auto it = std::find(c.memberIds.begin(), c.memberIds.end(), removed);
                if (it == c.memberIds.end()) return call.fail(ErrorCode::NotFound, "Not a member of this chat");
                if (c.type == "dm") return call.fail(ErrorCode::ValidationError, "a dm has exactly two members");
                c.memberIds.erase(it);
                c.updatedAt = core::nowMs();
                chat_.store().write<bool>(
                    here(threads_),
                    [c, removed](store::Store& s) { return s.removeMember(c.id, removed, c.updatedAt); },
                    [this, call, c, removed](std::string error, bool) {
                        if (!error.empty()) return call.internal(error);
                        chat_.leaveChatRoom(c.id, removed);
                        chat_.emitChatUpdate(c, {removed});
                        call.ok(chat::ChatService::chatJson(c));
                    });
            });
        }));

    // --- Messages ----------------------------------------------------------------------------
    router.add(
        bhttp::verb::get, "/v1/chats/:chatId/messages",
        authed([this, memberOf](const Call& call, const std::string& userId, const net::Request& req, const Params& p) {
            auto query = chat::parseHistoryQuery(req.target());
            if (!query) return call.fail(query.error().code, query.error().message);
            memberOf(
                call, userId, p[0],
                [this, call, before = query->before, after = query->after, limit = query->limit](const store::Chat& c) {
                    // A cursor must name a message of this chat. It is checked in the same store job as
                    // the page, and an unknown id and a message of another chat get the same answer, so
                    // that the reply tells nothing about other chats.
                    chat_.store().read<std::optional<store::MessagePage>>(
                        here(threads_),
                        [id = c.id, before, after, limit](store::Store& s) -> std::optional<store::MessagePage> {
                            if (const auto& cursor = before ? before : after) {
                                auto m = s.findMessage(*cursor);
                                if (!m || m->chatId != id) return std::nullopt;
                            }
                            return s.messages(id, before, after, limit);
                        },
                        [call](std::string error, std::optional<store::MessagePage> found) {
                            if (!error.empty()) return call.internal(error);
                            if (!found) return call.fail(ErrorCode::NotFound, "No such message in this chat");
                            const store::MessagePage& page = *found;
                            boost::json::array messages;
                            for (const auto& m : page.messages) messages.push_back(chat::ChatService::messageJson(m));
                            call.ok(boost::json::object{{"messages", std::move(messages)}, {"hasMore", page.hasMore}});
                        });
                });
        }));

    router.add(bhttp::verb::post, "/v1/chats/:chatId/messages",
               authed([this](const Call& call, const std::string& userId, const net::Request& req, const Params& p) {
                   if (!ObjectId::isValid(p[0]))
                       return call.fail(ErrorCode::ValidationError, "chatId must be a 24-character hex ObjectId");
                   auto body = parseBody(req);
                   chat_.sendMessage(here(threads_), userId, objectOrNull(body), std::string_view(p[0]),
                                     [call](std::optional<chat::Failure> failure, chat::SendOutcome out) {
                                         if (failure) return call.fail(failure->code, failure->message, failure->cause);
                                         call.ok(boost::json::object{{"clientId", out.message.clientId},
                                                                     {"serverId", out.message.id}},
                                                 out.created ? bhttp::status::created : bhttp::status::ok);
                                     });
               }));

    router.add(
        bhttp::verb::get, "/v1/chats/:chatId/read-cursors",
        authed([this, memberOf](const Call& call, const std::string& userId, const net::Request&, const Params& p) {
            memberOf(call, userId, p[0], [this, call](const store::Chat& c) {
                chat_.store().read<std::vector<store::ReadCursor>>(
                    here(threads_), [id = c.id](store::Store& s) { return s.readCursors(id); },
                    [call](std::string error, std::vector<store::ReadCursor> cursors) {
                        if (!error.empty()) return call.internal(error);
                        boost::json::array out;
                        for (const auto& rc : cursors)
                            out.push_back(boost::json::object{{"userId", rc.userId},
                                                              {"messageId", rc.messageId},
                                                              {"readAt", core::isoTime(rc.readAt)}});
                        call.ok(std::move(out));
                    });
            });
        }));
}

} // namespace parley::http
