// engineio::Session through a real engineio::Server on loopback: every transition of
// SessionState, driven by real HTTP and WebSocket clients, observed at the SessionHandler seam.

#include "EngineHarness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace parley::engineio::test {
namespace {

using Kind = Delivered::Kind;

// ---------------------------------------------------------------------------------------------
// The transition table
// ---------------------------------------------------------------------------------------------

TEST(SessionStateTest, TheTableAllowsExactlyTheTransitionsOfTheDesign) {
    using S = SessionState;
    const S all[] = {S::Polling, S::Probing, S::Upgrading, S::WebSocket, S::Draining, S::Closed};
    const std::vector<std::pair<S, S>> legal = {
        {S::Polling, S::Probing},    {S::Polling, S::Draining},    {S::Polling, S::Closed},
        {S::Probing, S::Upgrading},  {S::Probing, S::Polling},     {S::Probing, S::Draining},
        {S::Probing, S::Closed},     {S::Upgrading, S::WebSocket}, {S::Upgrading, S::Polling},
        {S::Upgrading, S::Draining}, {S::Upgrading, S::Closed},    {S::WebSocket, S::Closed},
        {S::Draining, S::Closed},
    };
    for (S from : all) {
        for (S to : all) {
            const bool expected = std::find(legal.begin(), legal.end(), std::pair{from, to}) != legal.end();
            EXPECT_EQ(isLegalTransition(from, to), expected) << toString(from) << " -> " << toString(to);
        }
    }
}

TEST(SessionStateTest, OnlyTheStatesBeforeDrainingAreOpen) {
    EXPECT_TRUE(isOpen(SessionState::Polling));
    EXPECT_TRUE(isOpen(SessionState::Probing));
    EXPECT_TRUE(isOpen(SessionState::Upgrading));
    EXPECT_TRUE(isOpen(SessionState::WebSocket));
    EXPECT_FALSE(isOpen(SessionState::Draining));
    EXPECT_FALSE(isOpen(SessionState::Closed));
}

// ---------------------------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------------------------

TEST(SessionTest, APollingHandshakeOpensAPollingSessionOfferingTheUpgrade) {
    Engine engine;
    auto r = httpRequest(engine.port(), http::verb::get, engine.pollingUrl());
    ASSERT_EQ(r.status, 200u) << r.body;
    ASSERT_EQ(r.body.front(), '0');
    const auto open = boost::json::parse(r.body.substr(1)).as_object();
    EXPECT_EQ(open.at("upgrades").as_array(), boost::json::array{"websocket"});
    EXPECT_EQ(open.at("pingInterval").as_int64(), 10'000);
    const std::string sid(open.at("sid").as_string());
    const auto log = engine.recorder().waitFor(sid, [](const auto& l) { return !l.empty(); });
    ASSERT_TRUE(log);
    EXPECT_EQ(log->front().kind, Kind::Open);
    EXPECT_EQ(engine.state(sid), SessionState::Polling);
}

TEST(SessionTest, AHeldGetIsAnsweredByTheSendsOfOneTurnInOneResponse) {
    Engine engine;
    const auto sid = engine.openPolling();
    ASSERT_FALSE(sid.empty());
    auto held = engine.getAsync(sid);
    ASSERT_EQ(held.wait_for(kQuiet), std::future_status::timeout) << "answered with nothing queued";
    engine.onSessionThread(sid, [](Session& s) {
        s.send(net::Frame{net::makeSharedBuffer("4first"), false});
        s.send(net::Frame{net::makeSharedBuffer("\x01\x02"), true});
    });
    ASSERT_EQ(held.wait_for(kDeadline), std::future_status::ready);
    const auto r = held.get();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "4first\x1e"
                      "bAQI=");
}

TEST(SessionTest, AGetTakesWhatWasQueuedBeforeItCame) {
    Engine engine;
    const auto sid = engine.openPolling();
    engine.send(sid, "4waiting");
    const auto r = engine.get(sid);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "4waiting");
}

TEST(SessionTest, APostDeliversItsMessagesInOrder) {
    Engine engine;
    const auto sid = engine.openPolling();
    const auto r = engine.post(sid, "4one\x1e"
                                    "bAQID\x1e"
                                    "4two");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "ok");
    const auto got = engine.recorder().messages(sid, 3);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].kind, Kind::Text);
    EXPECT_EQ(got[0].data, "one");
    EXPECT_EQ(got[1].kind, Kind::Binary);
    EXPECT_EQ(got[1].data, std::string("\x01\x02\x03"));
    EXPECT_EQ(got[2].data, "two");
}

TEST(SessionTest, AMalformedPostClosesTheSessionWithAParseError) {
    Engine engine;
    const auto sid = engine.openPolling();
    EXPECT_EQ(engine.post(sid, "garbage").status, 400u);
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::ParseError);
    EXPECT_EQ(engine.state(sid), SessionState::Closed);
}

TEST(SessionTest, AClientCloseAnswersTheHeldGetWithANoop) {
    Engine engine;
    const auto sid = engine.openPolling();
    auto held = engine.getAsync(sid);
    ASSERT_EQ(held.wait_for(kQuiet), std::future_status::timeout);
    EXPECT_EQ(engine.post(sid, "1").status, 200u);
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::ClientClose);
    ASSERT_EQ(held.wait_for(kDeadline), std::future_status::ready);
    EXPECT_EQ(held.get().body, "6");
    EXPECT_EQ(engine.state(sid), SessionState::Closed);
    EXPECT_EQ(engine.get(sid).status, 400u);
}

TEST(SessionTest, AClientCloseWithoutAHeldGetDrainsForTheGetThatMayBeOnItsWay) {
    Engine engine;
    const auto sid = engine.openPolling();
    EXPECT_EQ(engine.post(sid, "1").status, 200u);
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::ClientClose);
    EXPECT_EQ(engine.state(sid), SessionState::Draining);
    const auto late = engine.get(sid);
    EXPECT_EQ(late.status, 200u);
    EXPECT_EQ(late.body, "6");
    EXPECT_EQ(engine.state(sid), SessionState::Closed);
    EXPECT_EQ(engine.get(sid).status, 400u);
}

TEST(SessionTest, TwoGetsAtOnceEndTheSessionWithATransportError) {
    Engine engine;
    const auto sid = engine.openPolling();
    auto first = engine.getAsync(sid);
    ASSERT_EQ(first.wait_for(kQuiet), std::future_status::timeout);
    EXPECT_EQ(engine.get(sid).status, 400u);
    ASSERT_EQ(first.wait_for(kDeadline), std::future_status::ready);
    EXPECT_EQ(first.get().body, "1");
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::TransportError);
}

// ---------------------------------------------------------------------------------------------
// Upgrade
// ---------------------------------------------------------------------------------------------

TEST(SessionTest, AnUpgradeMovesTheSessionAndItsQueueToTheWebSocket) {
    Engine engine;
    const auto sid = engine.openPolling();
    engine.send(sid, "4queued-before");
    WsClient probe(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(probe.connected());
    EXPECT_EQ(engine.state(sid), SessionState::Probing);

    ASSERT_TRUE(probe.send("2probe"));
    EXPECT_EQ(probe.nextText(), "3probe");
    EXPECT_EQ(engine.state(sid), SessionState::Upgrading);
    // The client pauses polling: a GET now gets a noop at once, not the queued message.
    const auto paused = engine.get(sid);
    EXPECT_EQ(paused.status, 200u);
    EXPECT_EQ(paused.body, "6");

    ASSERT_TRUE(probe.send("5"));
    EXPECT_EQ(probe.nextText(), "4queued-before");
    ASSERT_TRUE(probe.send("4up"));
    const auto got = engine.recorder().messages(sid, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data, "up");
    EXPECT_EQ(engine.state(sid), SessionState::WebSocket);
    engine.send(sid, "4down");
    EXPECT_EQ(probe.nextText(), "4down");
    // Polling requests for an upgraded session are refused; the session goes on.
    EXPECT_EQ(engine.get(sid).status, 400u);
    EXPECT_EQ(engine.post(sid, "4late").status, 400u);
    EXPECT_EQ(engine.state(sid), SessionState::WebSocket);
}

TEST(SessionTest, AGetHeldWhenTheProbeIsAnsweredGetsANoop) {
    Engine engine;
    const auto sid = engine.openPolling();
    auto held = engine.getAsync(sid);
    ASSERT_EQ(held.wait_for(kQuiet), std::future_status::timeout);
    WsClient probe(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(probe.send("2probe"));
    EXPECT_EQ(probe.nextText(), "3probe");
    ASSERT_EQ(held.wait_for(kDeadline), std::future_status::ready);
    EXPECT_EQ(held.get().body, "6");
}

TEST(SessionTest, AProbeWithoutItsFiveIsDroppedAtTheUpgradeTimeoutAndPollingGoesOn) {
    Config config = calmConfig();
    config.upgradeTimeout = 100ms;
    Engine engine(config);
    const auto sid = engine.openPolling();
    WsClient probe(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(probe.send("2probe"));
    EXPECT_EQ(probe.nextText(), "3probe");
    EXPECT_TRUE(probe.waitClosed()) << "the probe is closed by the server";
    EXPECT_EQ(engine.state(sid), SessionState::Polling);
    engine.send(sid, "4still-polling");
    EXPECT_EQ(engine.get(sid).body, "4still-polling");
    EXPECT_EQ(engine.recorder().closeCount(sid), 0);
}

TEST(SessionTest, AProbeClosedByTheClientLeavesTheSessionPolling) {
    Engine engine;
    const auto sid = engine.openPolling();
    {
        WsClient probe(engine.port(), engine.wsUrl(sid));
        ASSERT_TRUE(probe.send("2probe"));
        EXPECT_EQ(probe.nextText(), "3probe");
        probe.close();
        EXPECT_TRUE(probe.waitClosed());
    }
    EXPECT_TRUE(engine.reaches(sid, SessionState::Polling));
    engine.send(sid, "4after-probe");
    EXPECT_EQ(engine.get(sid).body, "4after-probe");
    EXPECT_EQ(engine.recorder().closeCount(sid), 0);
}

TEST(SessionTest, AProbeSendingAnythingButItsPacketsIsDropped) {
    Engine engine;
    const auto sid = engine.openPolling();
    WsClient probe(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(probe.send("4not-a-probe"));
    EXPECT_TRUE(probe.waitClosed());
    EXPECT_EQ(engine.state(sid), SessionState::Polling);
    // A later probe may still upgrade the session.
    WsClient second(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(second.send("2probe"));
    EXPECT_EQ(second.nextText(), "3probe");
    ASSERT_TRUE(second.send("5"));
    EXPECT_TRUE(engine.reaches(sid, SessionState::WebSocket));
}

TEST(SessionTest, ASecondWebSocketIsAcceptedAndClosedAndTheFirstGoesOn) {
    Engine engine;
    const auto sid = engine.openPolling();
    WsClient ws(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(ws.send("2probe"));
    EXPECT_EQ(ws.nextText(), "3probe");
    ASSERT_TRUE(ws.send("5"));
    EXPECT_TRUE(engine.reaches(sid, SessionState::WebSocket));

    WsClient second(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(second.connected()) << "accepted, not refused with an HTTP error";
    const auto first = second.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->kind, WsClient::Event::Kind::Closed) << first->data;

    EXPECT_EQ(engine.state(sid), SessionState::WebSocket);
    ASSERT_TRUE(ws.send("4first-still-works"));
    const auto got = engine.recorder().messages(sid, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data, "first-still-works");
}

TEST(SessionTest, ASecondProbeDuringAnUpgradeIsAcceptedAndClosed) {
    Engine engine;
    const auto sid = engine.openPolling();
    WsClient probe(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(probe.send("2probe"));
    EXPECT_EQ(probe.nextText(), "3probe");
    WsClient second(engine.port(), engine.wsUrl(sid));
    ASSERT_TRUE(second.connected());
    EXPECT_TRUE(second.waitClosed());
    EXPECT_EQ(engine.state(sid), SessionState::Upgrading);
    ASSERT_TRUE(probe.send("5"));
    EXPECT_TRUE(engine.reaches(sid, SessionState::WebSocket));
}

// ---------------------------------------------------------------------------------------------
// WebSocket sessions and the heartbeat
// ---------------------------------------------------------------------------------------------

TEST(SessionTest, AWebSocketHandshakeOpensAWebSocketSession) {
    Engine engine;
    WsClient ws(engine.port(), engine.wsUrl());
    ASSERT_TRUE(ws.connected());
    const auto sid = sidOf(ws.nextText());
    ASSERT_FALSE(sid.empty());
    EXPECT_EQ(engine.state(sid), SessionState::WebSocket);
    ASSERT_TRUE(ws.send("4hello"));
    ASSERT_TRUE(ws.send("\x07", true));
    const auto got = engine.recorder().messages(sid, 2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].data, "hello");
    EXPECT_EQ(got[1].kind, Kind::Binary);
    engine.send(sid, "4back");
    EXPECT_EQ(ws.nextText(), "4back");
    ASSERT_TRUE(ws.send("1"));
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::ClientClose);
    EXPECT_TRUE(ws.waitClosed());
}

TEST(SessionTest, NoPongClosesTheSessionWithAPingTimeout) {
    Config config = calmConfig();
    config.pingInterval = 50ms;
    config.pingTimeout = 50ms;
    Engine engine(config);
    WsClient ws(engine.port(), engine.wsUrl());
    const auto sid = sidOf(ws.nextText());
    EXPECT_EQ(ws.nextText(), "2");
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::PingTimeout);
    EXPECT_TRUE(ws.waitClosed());
    EXPECT_EQ(engine.state(sid), SessionState::Closed);
}

TEST(SessionTest, PongsKeepTheSessionAlive) {
    Config config = calmConfig();
    config.pingInterval = 50ms;
    config.pingTimeout = 1000ms; // room for a loaded machine to answer
    Engine engine(config);
    WsClient ws(engine.port(), engine.wsUrl());
    const auto sid = sidOf(ws.nextText());
    // Each ping comes pingInterval after the last pong: the pongs are what keeps it going.
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(ws.nextText(), "2") << i;
        ASSERT_TRUE(ws.send("3"));
    }
    EXPECT_EQ(engine.state(sid), SessionState::WebSocket);
    EXPECT_EQ(engine.recorder().closeCount(sid), 0);
}

TEST(SessionTest, APollingGetPastThePongDeadlineFindsTheSessionClosed) {
    Config config = calmConfig();
    config.pingInterval = 50ms;
    config.pingTimeout = 50ms;
    Engine engine(config);
    const auto sid = engine.openPolling();
    EXPECT_EQ(engine.get(sid).body, "2");
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::PingTimeout);
    EXPECT_EQ(engine.get(sid).status, 400u);
}

// ---------------------------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------------------------

TEST(SessionTest, AServerCloseDeliversTheQueuedPacketsThenTheClosePacket) {
    Engine engine;
    const auto sid = engine.openPolling();
    engine.onSessionThread(sid, [](Session& s) {
        s.send(net::Frame{net::makeSharedBuffer("4last-words"), false});
        s.close();
        s.send(net::Frame{net::makeSharedBuffer("4after-close"), false}); // dropped
    });
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::ServerClose);
    EXPECT_EQ(engine.state(sid), SessionState::Draining);
    EXPECT_EQ(engine.get(sid).body, "4last-words");
    EXPECT_EQ(engine.get(sid).body, "1");
    EXPECT_EQ(engine.state(sid), SessionState::Closed);
    EXPECT_EQ(engine.get(sid).status, 400u);
}

TEST(SessionTest, AServerCloseAnswersAHeldGetWithTheQueuedPacketsFirst) {
    Engine engine;
    const auto sid = engine.openPolling();
    auto held = engine.getAsync(sid);
    ASSERT_EQ(held.wait_for(kQuiet), std::future_status::timeout);
    engine.onSessionThread(sid, [](Session& s) {
        s.send(net::Frame{net::makeSharedBuffer("4bye"), false});
        s.close();
    });
    ASSERT_EQ(held.wait_for(kDeadline), std::future_status::ready);
    EXPECT_EQ(held.get().body, "4bye");
    EXPECT_EQ(engine.get(sid).body, "1");
}

TEST(SessionTest, AServerCloseWithNothingQueuedEndsTheSessionAtOnce) {
    Engine engine;
    const auto sid = engine.openPolling();
    engine.onSessionThread(sid, [](Session& s) { s.close(); });
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::ServerClose);
    EXPECT_EQ(engine.state(sid), SessionState::Closed);
    EXPECT_EQ(engine.get(sid).status, 400u);
}

TEST(SessionTest, ASendAfterCloseIsDroppedOnAWebSocket) {
    Engine engine;
    WsClient ws(engine.port(), engine.wsUrl());
    const auto sid = sidOf(ws.nextText());
    engine.onSessionThread(sid, [](Session& s) {
        s.send(net::Frame{net::makeSharedBuffer("4before"), false});
        s.close();
        s.send(net::Frame{net::makeSharedBuffer("4after"), false});
        s.close(); // a second close is a no-op
    });
    EXPECT_EQ(ws.nextText(), "4before");
    const auto end = ws.next();
    ASSERT_TRUE(end);
    EXPECT_EQ(end->kind, WsClient::Event::Kind::Closed) << end->data;
    EXPECT_EQ(end->code, 1000);
    EXPECT_EQ(engine.recorder().closeCount(sid), 1);
}

TEST(SessionTest, APollingClientThatDoesNotPollIsClosedAsASlowConsumer) {
    Config config = calmConfig();
    config.maxOutboundBytes = 4096;
    Engine engine(config);
    const auto sid = engine.openPolling();
    engine.onSessionThread(sid, [](Session& s) {
        for (int i = 0; i < 10; ++i) s.send(net::Frame{net::makeSharedBuffer("4" + std::string(1000, 'x')), false});
    });
    EXPECT_EQ(engine.recorder().closeReason(sid), CloseReason::SlowConsumer);
    EXPECT_EQ(engine.recorder().closeCount(sid), 1);
    EXPECT_EQ(engine.get(sid).status, 400u);
}

TEST(SessionTest, VolatilePacketsAreDroppedFirstForABackedUpClient) {
    Config config = calmConfig();
    config.volatileBacklogBytes = 10;
    Engine engine(config);
    const auto sid = engine.openPolling();
    engine.onSessionThread(sid, [](Session& s) {
        s.send(net::Frame{net::makeSharedBuffer("4important-message"), false});
        s.send(net::Frame{net::makeSharedBuffer("4typing"), false, true});
    });
    EXPECT_EQ(engine.get(sid).body, "4important-message");
}

} // namespace
} // namespace parley::engineio::test
