#include "cluster/BusMessages.hpp"
#include "cluster/Msgpack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace parley::cluster {
namespace {

namespace json = boost::json;
using bus::Malformed;
using bus::RequestType;

socketio::BroadcastOptions toRooms(std::vector<std::string> rooms, std::vector<std::string> except = {}) {
    socketio::BroadcastOptions o;
    o.rooms = std::move(rooms);
    o.except = std::move(except);
    return o;
}

/// [uid, packet, opts] written by hand, as a Node node or an emitter would.
std::string broadcastBytes(const json::value& packet, const json::value& opts, std::string_view uid = "NODE01",
                           std::span<const std::string> buffers = {}) {
    std::string out;
    msgpack::Writer w(out);
    w.arrayHeader(3);
    w.string(uid);
    w.json(packet, buffers);
    w.json(opts);
    return out;
}

TEST(BusMessagesTest, ABroadcastRoundTripsWithRoomsExceptVolatileAndAttachments) {
    auto opts = toRooms({"chat:1", "chat:2"}, {"user:9"});
    opts.exceptSid = "SID";
    opts.isVolatile = true;
    const std::vector<std::string> buffers{std::string("\x00\x01\xff", 3)};
    const std::string args = R"({"a":1},{"_placeholder":true,"num":0},"x")";
    const auto bytes = bus::encodeBroadcast("ME0001", "/", {"ev", args, buffers}, opts);

    auto event = bus::parseBroadcast(bytes, "/");
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->uid, "ME0001");
    EXPECT_EQ(event->event, "ev");
    EXPECT_EQ(json::parse("[" + event->argsText + "]"), json::parse("[" + args + "]"));
    EXPECT_EQ(event->buffers, buffers);
    EXPECT_EQ(event->opts.rooms, (std::vector<std::string>{"chat:1", "chat:2"}));
    // The sender's own socket travels as an except room, as Node's socket.broadcast does.
    EXPECT_EQ(event->opts.except, (std::vector<std::string>{"user:9", "SID"}));
    EXPECT_TRUE(event->opts.isVolatile);
}

// Arguments as deep as a bus message may carry (deeper than a JSON parser's default) are
// published whole, not dropped.
TEST(BusMessagesTest, DeepArgumentsAreRepublishedWhole) {
    std::string deep = "1";
    for (int i = 0; i < 50; ++i) deep = "[" + deep + "]";
    const std::string args = R"({"a":1},)" + deep;
    auto event = bus::parseBroadcast(bus::encodeBroadcast("ME0001", "/", {"ev", args, {}}, toRooms({})), "/");
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->argsText, args);
}

TEST(BusMessagesTest, ABroadcastsOrderRoundTripsAndIsAbsentWithoutOne) {
    auto opts = toRooms({"chat:1"});
    opts.order = socketio::BroadcastOrder{"6b161b967c70a188acce0163", 42};
    auto event = bus::parseBroadcast(bus::encodeBroadcast("ME0001", "/", {"ev", "1", {}}, opts), "/");
    ASSERT_TRUE(event.has_value());
    ASSERT_TRUE(event->opts.order.has_value());
    EXPECT_EQ(event->opts.order->chain, "6b161b967c70a188acce0163");
    EXPECT_EQ(event->opts.order->seq, 42);
    // Beside rooms, except and flags: a key Node's adapter passes on and never reads.
    std::vector<std::string> buffers;
    auto decoded = msgpack::decode(bus::encodeBroadcast("ME0001", "/", {"ev", "1", {}}, opts), buffers);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->at(2).at("order"), json::parse(R"(["6b161b967c70a188acce0163",42])"));

    event = bus::parseBroadcast(bus::encodeBroadcast("ME0001", "/", {"ev", "1", {}}, toRooms({"chat:1"})), "/");
    ASSERT_TRUE(event.has_value());
    EXPECT_FALSE(event->opts.order.has_value());
}

TEST(BusMessagesTest, AMalformedOrderIsAMalformedBroadcast) {
    const json::value packet = json::parse(R"({"type":2,"data":["e"],"nsp":"/"})");
    for (const char* order : {R"("x")", R"(["c"])", R"(["c",0])", R"(["c",-3])", R"([7,1])", R"(["",1])",
                              R"(["c","1"])", R"(["c",1.5e300])"}) {
        const auto opts = json::parse(std::string(R"({"rooms":[],"except":[],"order":)") + order + "}");
        EXPECT_EQ(bus::parseBroadcast(broadcastBytes(packet, opts), "/").error(), Malformed::Shape) << order;
    }
    const auto tooLong = json::value{{"rooms", json::array{}}, {"order", json::array{std::string(300, 'c'), 1}}};
    EXPECT_EQ(bus::parseBroadcast(broadcastBytes(packet, tooLong), "/").error(), Malformed::Shape);
}

TEST(BusMessagesTest, ASingleRoomBroadcastGoesOnThatRoomsChannel) {
    EXPECT_EQ(bus::broadcastChannel("socket.io#/#", toRooms({"chat:1"})), "socket.io#/#chat:1#");
    EXPECT_EQ(bus::broadcastChannel("socket.io#/#", toRooms({"a", "b"})), "socket.io#/#");
    EXPECT_EQ(bus::broadcastChannel("socket.io#/#", toRooms({})), "socket.io#/#");
}

TEST(BusMessagesTest, AnEmittersPacketWithoutNamespaceMeansTheMainOne) {
    const auto bytes = broadcastBytes(json::parse(R"({"type":2,"data":["notice",{"n":1}]})"),
                                      json::parse(R"({"rooms":["r"],"except":[],"flags":{}})"), "emitter");
    auto event = bus::parseBroadcast(bytes, "/");
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->uid, "emitter");
    EXPECT_EQ(event->argsText, R"({"n":1})");
    EXPECT_EQ(bus::parseBroadcast(bytes, "/other").error(), Malformed::Namespace);
}

TEST(BusMessagesTest, NumericRoomsBecomeTheirDecimalText) {
    const auto bytes = broadcastBytes(json::parse(R"({"type":2,"data":["e"],"nsp":"/"})"),
                                      json::parse(R"({"rooms":[42,"x"],"except":[-1]})"));
    auto event = bus::parseBroadcast(bytes, "/");
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->opts.rooms, (std::vector<std::string>{"42", "x"}));
    EXPECT_EQ(event->opts.except, (std::vector<std::string>{"-1"}));
}

TEST(BusMessagesTest, AttachmentsAreRenumberedToWhatTheArgumentsUse) {
    // A bin outside the data (here in an extra packet field) and one referred to twice.
    const std::vector<std::string> buffers{"stray", "used"};
    const auto bytes = broadcastBytes(json::parse(R"({"extra":{"_placeholder":true,"num":0},"type":2,"nsp":"/",
                        "data":["e",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":1}]]})"),
                                      json::parse(R"({"rooms":[],"except":[]})"), "NODE01", buffers);
    auto event = bus::parseBroadcast(bytes, "/");
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->buffers, (std::vector<std::string>{"used", "used"}));
    EXPECT_EQ(event->argsText, R"({"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}])");
}

TEST(BusMessagesTest, MalformedBroadcastsAreRejectedWithTheirReason) {
    EXPECT_EQ(bus::parseBroadcast("garbage", "/").error(), Malformed::Decode);
    EXPECT_EQ(bus::parseBroadcast(std::string("\x93\xa1", 2), "/").error(), Malformed::Decode); // truncated
    EXPECT_EQ(bus::parseBroadcast(msgpack::encode(json::parse("[1,2]")), "/").error(), Malformed::Shape);
    const json::value opts = json::parse(R"({"rooms":[],"except":[]})");
    EXPECT_EQ(bus::parseBroadcast(broadcastBytes(json::parse(R"({"type":2,"data":[]})"), opts), "/").error(),
              Malformed::Shape); // no event name
    EXPECT_EQ(bus::parseBroadcast(broadcastBytes(json::parse(R"({"type":3,"data":["e"]})"), opts), "/").error(),
              Malformed::Shape); // not an event
    EXPECT_EQ(bus::parseBroadcast(
                  broadcastBytes(json::parse(R"({"type":2,"data":["e"]})"), json::parse(R"({"rooms":[{}]})")), "/")
                  .error(),
              Malformed::Shape); // a room that is not a name
    bus::Limits small;
    small.maxBytes = 8;
    EXPECT_EQ(bus::parseBroadcast(broadcastBytes(json::parse(R"({"type":2,"data":["e"]})"), opts), "/", small).error(),
              Malformed::Decode);
}

TEST(BusMessagesTest, JsonRequestsOfEveryTypeParse) {
    auto fetch =
        bus::parseRequest(R"({"uid":"N","requestId":"r1","type":5,"opts":{"rooms":["a"],"except":["b"]}})", "/");
    ASSERT_TRUE(fetch.has_value());
    EXPECT_EQ(fetch->type, RequestType::RemoteFetch);
    EXPECT_EQ(fetch->requestId, "r1");
    EXPECT_EQ(fetch->opts.rooms, (std::vector<std::string>{"a"}));
    EXPECT_EQ(fetch->opts.except, (std::vector<std::string>{"b"}));

    auto join = bus::parseRequest(R"({"uid":"N","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["x","y"]})", "/");
    ASSERT_TRUE(join.has_value());
    EXPECT_TRUE(join->hasOpts);
    EXPECT_EQ(join->rooms, (std::vector<std::string>{"x", "y"}));

    auto leaveOne = bus::parseRequest(R"({"uid":"N","requestId":"q","type":3,"sid":"S1","room":"x"})", "/");
    ASSERT_TRUE(leaveOne.has_value());
    EXPECT_FALSE(leaveOne->hasOpts);
    EXPECT_EQ(leaveOne->sid, "S1");
    EXPECT_EQ(leaveOne->room, "x");

    auto disconnect = bus::parseRequest(R"({"type":4,"opts":{"rooms":["u"],"except":[]},"close":true})", "/");
    ASSERT_TRUE(disconnect.has_value());
    EXPECT_TRUE(disconnect->close);
    EXPECT_EQ(disconnect->uid, ""); // the emitter sends no uid

    auto emit = bus::parseRequest(R"({"uid":"N","type":6,"data":["parley:ping",{"x":1}],"requestId":"z"})", "/");
    ASSERT_TRUE(emit.has_value());
    EXPECT_TRUE(emit->wantsReply);
    EXPECT_EQ(emit->data.size(), 2u);
    auto emitNoAck = bus::parseRequest(R"({"uid":"N","type":6,"data":["e"]})", "/");
    ASSERT_TRUE(emitNoAck.has_value());
    EXPECT_FALSE(emitNoAck->wantsReply);

    EXPECT_TRUE(bus::parseRequest(R"({"uid":"N","requestId":"r","type":1})", "/").has_value());
    EXPECT_TRUE(bus::parseRequest(R"({"uid":"N","requestId":"r","type":0,"rooms":["a"]})", "/").has_value());
}

TEST(BusMessagesTest, AMsgpackBroadcastRequestCarriesItsPacketAndTimeout) {
    const std::vector<std::string> buffers{"bin"};
    const auto bytes = msgpack::encode(json::parse(R"({"uid":"N","requestId":"abc","type":7,
                        "packet":{"type":2,"data":["q",{"_placeholder":true,"num":0}],"nsp":"/"},
                        "opts":{"rooms":["r"],"except":[],"flags":{"timeout":1500}}})"),
                                       buffers);
    auto request = bus::parseRequest(bytes, "/");
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->type, RequestType::Broadcast);
    EXPECT_EQ(request->packet.event, "q");
    EXPECT_EQ(request->packet.buffers, buffers);
    EXPECT_EQ(request->packet.opts.rooms, (std::vector<std::string>{"r"}));
    EXPECT_EQ(request->packet.ackTimeoutMs, 1500u);
}

TEST(BusMessagesTest, MalformedRequestsAreRejectedWithTheirReason) {
    EXPECT_EQ(bus::parseRequest("", "/").error(), Malformed::Decode);
    EXPECT_EQ(bus::parseRequest("{not json", "/").error(), Malformed::Decode);
    EXPECT_EQ(bus::parseRequest(R"([1,2])", "/").error(), Malformed::Decode); // not '{', not msgpack either
    EXPECT_EQ(bus::parseRequest(R"({"type":42})", "/").error(), Malformed::UnknownType);
    EXPECT_EQ(bus::parseRequest(R"({"type":1.5})", "/").error(), Malformed::UnknownType);
    EXPECT_EQ(bus::parseRequest(R"({"type":"5"})", "/").error(), Malformed::Shape);
    EXPECT_EQ(bus::parseRequest(R"({"type":5,"requestId":"r"})", "/").error(), Malformed::Shape); // no opts
    EXPECT_EQ(bus::parseRequest(R"({"type":2,"sid":"S"})", "/").error(), Malformed::Shape);       // no room
    EXPECT_EQ(bus::parseRequest(R"({"type":6,"data":[]})", "/").error(), Malformed::Shape);
    EXPECT_EQ(bus::parseRequest(R"({"type":1})", "/").error(), Malformed::Shape); // no requestId to answer
}

TEST(BusMessagesTest, RequestsThisNodeSendsAreWhatNodeParses) {
    auto opts = toRooms({"user:1"});
    opts.exceptSid = "S";
    const auto join = json::parse(bus::encodeRoomsRequest("ME", RequestType::RemoteJoin, opts, {"extra"}));
    EXPECT_EQ(join,
              json::parse(R"({"uid":"ME","type":2,"opts":{"rooms":["user:1"],"except":["S"]},"rooms":["extra"]})"));
    const auto disconnect = json::parse(bus::encodeDisconnectRequest("ME", toRooms({"u"}), true));
    EXPECT_EQ(disconnect, json::parse(R"({"uid":"ME","type":4,"opts":{"rooms":["u"],"except":[]},"close":true})"));

    std::vector<std::string> attachments;
    auto ack = msgpack::decode(bus::encodeBroadcastAck("rid", json::parse(R"({"ok":true})"), {}), attachments);
    ASSERT_TRUE(ack.has_value());
    EXPECT_EQ(*ack, json::parse(R"({"type":9,"requestId":"rid","packet":{"ok":true}})"));
}

} // namespace
} // namespace parley::cluster
