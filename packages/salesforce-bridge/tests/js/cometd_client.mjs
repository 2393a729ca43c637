// Subscribe to one Salesforce streaming channel with the official CometD JavaScript client.
//
// Usage: node cometd_client.mjs <cometd-url> <channel> <events> <timeout-ms>
// The bearer token is read from SALESFORCE_ACCESS_TOKEN (never from the command line).
// Prints JSON lines on stdout: {"meta": "..."} for session milestones, then one line per event
// ({"channel", "replayId", "payload"}); exits 0 after <events> events, 2 on timeout.
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";

adapt();

const [url, channel, wanted, timeoutMs] = process.argv.slice(2);
const token = process.env.SALESFORCE_ACCESS_TOKEN ?? "";
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

// Salesforce's replay extension: announce replay support on the handshake, and send the
// channel -> replayId map on every subscribe (-2: every retained event, then the last seen id).
const replay = { [channel]: -2 };
const replayExtension = {
  outgoing(message) {
    if (message.channel === "/meta/handshake") {
      message.ext = { ...message.ext, replay: true };
    } else if (message.channel === "/meta/subscribe") {
      message.ext = { ...message.ext, replay: { ...replay } };
    }
    return message;
  },
  incoming(message) {
    const replayId = message.data?.event?.replayId;
    if (typeof replayId === "number" && message.channel in replay) {
      replay[message.channel] = replayId;
    }
    return message;
  },
};

const cometd = new CometD();
// Salesforce accepts long-polling only.
cometd.unregisterTransport("websocket");
cometd.unregisterTransport("callback-polling");
cometd.configure({
  url,
  requestHeaders: { Authorization: `Bearer ${token}` },
  appendMessageTypeToURL: false,
  logLevel: "warn",
});
cometd.registerExtension("replay", replayExtension);

let received = 0;
const finish = (code) => {
  clearTimeout(timer);
  cometd.disconnect(() => process.exit(code));
  setTimeout(() => process.exit(code), 1000).unref();
};
const timer = setTimeout(() => {
  print({ meta: "timeout", received });
  finish(2);
}, Number(timeoutMs));

const onEvent = (message) => {
  print({
    channel: message.channel,
    replayId: message.data.event.replayId,
    eventUuid: message.data.event.EventUuid,
    payload: message.data.payload,
  });
  received += 1;
  if (received >= Number(wanted)) {
    finish(0);
  }
};

// Every handshake drops all subscriptions, so subscribe from the handshake listener.
cometd.addListener("/meta/handshake", (reply) => {
  print({ meta: "handshake", successful: reply.successful, ext: reply.ext ?? null });
  if (reply.successful) {
    cometd.subscribe(channel, onEvent, (ack) => {
      print({ meta: "subscribed", successful: ack.successful, error: ack.error ?? null });
    });
  }
});
cometd.handshake();
