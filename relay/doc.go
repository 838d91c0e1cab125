// Package relay moves live streams between servers: a push sends a
// stream of the hub to other RTMP servers, a pull brings a stream of
// another server into the hub. Both attach to the hub through its public
// seams, like any player or publisher: a push target is a subscriber
// (live.Hub.Subscribe), a pull is a publisher (live.Hub.Publish).
//
// # Push
//
// Push sends one stream to any number of rtmp:// and rtmps:// targets (a
// restream to several platforms, each URL with its own key). Each target
// has its own connection (rtmp.DialPublish), its own queue in the hub
// (a subscription that loses video up to a key frame when the target is
// slow, and reports it) and its own reconnection with backoff: a dead or
// slow target never affects the source, the players or the other
// targets. Enhanced RTMP passes through to a target as far as its connect
// _result says it takes it (the subscription's Capabilities are the
// target's); other targets get the legacy form (avc1 as AVC, mp4a as AAC,
// track 0 of a multitrack stream) or nothing of a codec they cannot take.
// A target that sends an Enhanced RTMP ReconnectRequest is followed at
// the next key frame.
//
// # Pull
//
// Pull plays a stream from an upstream (rtmp.DialPlay) and publishes it
// in the hub under a key, with the rules of any publisher: one per key,
// the republish grace (when the upstream drops, players stay while the
// pull reconnects), monotonic time. It publishes at the first packet, so
// players wait for it as for a local publisher.
//
// # Manager: config per app, and the edge
//
// A Manager applies an app's config (App: push targets with {stream},
// an upstream): its Hooks start a push when a stream is published, and,
// for an upstream with OnDemand, start a pull when a player asks for a
// stream that is not here. That pull is shared by every local player,
// who start from the hub's own GOP cache once it is up, and stops once
// the last has been gone for the idle time: an edge of the upstream (the
// origin). Static pulls are started with StartPull. Pushes, Pulls and
// their status types report state, connection time, bytes, reconnects
// and the last error of each, for the API. Stats totals them by kind
// (push targets, pulls) for metrics: the states of those running,
// counters that keep what ended ones counted, and the failures by
// Failure (Classify: unreachable, timeout, tls, refused, closed, upstream
// ended, other), a closed set fit for a metric label.
package relay
