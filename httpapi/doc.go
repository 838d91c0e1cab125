// Package httpapi is the HTTP side of an ertmp server: Prometheus metrics
// (/metrics), a health check (/healthz) and a JSON API under /v1/ to list
// streams and sessions and to kick them, on top of a live.Hub. It is an
// http.Handler; the server assembly mounts it on its HTTP listener and
// wires its feeds:
//
//	api := httpapi.New(httpapi.Options{Token: token})
//	hub := live.NewHub(live.Config{Hooks: live.JoinHooks(authHooks, api.Hooks())})
//	api.SetHub(hub)
//	srv := &rtmp.Server{Handler: hub, OnConnClose: api.ConnClosed}
//
// # Streams
//
// FLV serves the hub's live streams at /APP/STREAM.flv, as HTTP-FLV for a
// GET and as WebSocket-FLV for an Upgrade (see FLV for codecs, CORS and the
// answers); Root dispatches the paths under / that the API does not take:
//
//	mux.Handle("/", &httpapi.Root{FLV: httpapi.NewFLV(hub, httpapi.FLVOptions{}), Page: httpapi.NewPage()})
//
// # Status page
//
// Page serves a status page at / (and its assets under /assets/): the
// streams from the JSON API, refreshed live, each with a player in the
// browser (hls.js for HLS, mpegts.js for HTTP-FLV and WebSocket-FLV) that
// says which codecs the browser cannot play. The page and the pinned
// player libraries are embedded in the binary; scripts/fetch-players
// fetches the libraries again and checks them against web/players.sha256.
//
// # Metrics
//
// All are prefixed ertmp_. Counters of events are kept as they happen
// (Hooks, ConnClosed, ObserveHook); gauges and the byte and drop counters
// are read from the hub at scrape time, so they include the sessions still
// running, and what an ending session counted moves into the totals: a
// counter never goes backwards.
//
//	ertmp_sessions{kind,protocol}                    gauge    open publish and play sessions
//	ertmp_players{protocol}                          gauge    subscribers of the streams
//	ertmp_streams                                    gauge    streams the hub knows
//	ertmp_streams_published                          gauge    streams with a publisher
//	ertmp_sessions_started_total{kind,protocol}      counter  sessions the hub took
//	ertmp_sessions_ended_total{kind,protocol,reason} counter  sessions that ended, refused ones too
//	ertmp_connection_closes_total{reason}            counter  connections that ended before publish or play
//	ertmp_received_bytes_total{kind,protocol}        counter  bytes received by sessions' connections
//	ertmp_sent_bytes_total{kind,protocol}            counter  bytes sent by sessions' connections
//	ertmp_dropped_packets_total{protocol}            counter  packets skipped for subscribers behind
//	ertmp_hook_duration_seconds{hook,outcome}        histogram hook calls and their latency
//
// With a record manager (SetRecorder) and a relay manager (SetRelay):
//
//	ertmp_record_active                              gauge    recordings running
//	ertmp_record_files_total                         counter  recorded files finished
//	ertmp_record_bytes_total                         counter  bytes of the files finished
//	ertmp_record_errors_total                        counter  recordings a write error stopped
//	ertmp_record_lost_packets_total                  counter  packets lost by recorders behind
//	ertmp_record_loss_events_total                   counter  times a recorder fell behind
//	ertmp_relay_connections{kind,state}              gauge    push targets and pulls by state
//	ertmp_relay_reconnects_total{kind}               counter  relay connections lost, refused or ended
//	ertmp_relay_bytes_total{kind}                    counter  bytes sent to targets, received from upstreams
//	ertmp_relay_packets_total{kind}                  counter  packets sent to targets, published by pulls
//	ertmp_relay_lost_packets_total                   counter  packets dropped for slow push targets
//	ertmp_relay_failures_total{kind,reason}          counter  relay connection failures by reason
//
// A relay's kind is "push" (one per target) or "pull"; its state is
// relay.State's text (connecting, connected, retrying); a failure's reason
// relay.Failure's (unreachable, timeout, tls, refused, closed, upstream
// ended, other).
//
// kind is "publish" or "play"; protocol is the session's (rtmp, rtmps,
// http-flv, ...); reason is live.Reason's text for sessions (client
// closed, rejected, slow consumer, kicked, ...) and rtmp.CloseReason's for
// connections (handshake failed, handshake timeout, too many connections,
// ...). No label ever holds a stream name or an address: label values come
// from the code, so the number of series stays bounded. Per-stream figures
// are in the JSON API. The registry also has the Go runtime's (go_) and
// the process's (process_) collectors.
//
// # JSON API
//
// GET /v1/streams lists live.StreamInfo (tracks with their codecs,
// bitrates, publisher, subscribers by protocol); GET
// /v1/streams/{app}/{name} one of them; GET /v1/sessions lists
// live.SessionInfo; both add "uptime", in seconds by the server's clock;
// POST /v1/kick with {"id": N} ends a session, with
// {"app": A, "name": N} a stream's publisher; POST /v1/drain starts
// Options.Drain. With Options.Token set, every /v1/ request needs
// "Authorization: Bearer TOKEN". A tcUrl's query string, where clients put
// stream keys, is left out of the answers.
package httpapi
