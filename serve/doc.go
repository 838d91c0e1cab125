// Package serve assembles `ertmp serve`: a Config read from YAML over
// built-in defaults, and a Server that runs the RTMP and RTMPS listeners,
// the live hub with auth (package auth) and per-app limits, and the HTTP
// listener, then reloads, drains and shuts them down.
//
// # Configuration
//
// Default is defaults.yaml, embedded (DefaultsYAML shows it with its
// comments); Load and Parse read a file on top of it, key by key. An
// unknown key or a bad value is an error that names the file and the line.
// Top-level keys mirror the flags of `ertmp serve` (listen, http, rtmps,
// tls_cert, tls_key); rtmp and live configure the RTMP server and the hub;
// apps holds per-application settings by name, where "default" applies to
// applications not listed and each listed one takes the keys it does not
// set from it. Config.Redacted hides keys, the API token and hook URLs'
// credentials for printing.
//
// What is per application: publish and play keys, address lists, HTTP
// hooks, hook timeout and failure policy (package auth), and max_streams
// and max_players, enforced at admission (a session holds its place from
// authorization to its end). What is global: everything under rtmp and
// live (GOP cache, queues, play wait, republish grace, pings, the hub's
// own stream and player bounds), because a live.Hub has one live.Config.
//
// # Server
//
// New builds everything from a Config; Listen binds (with SO_REUSEPORT
// when reuse_port is set, so that a new process can bind the same ports
// during a restart); Run serves until its context ends, then drains and
// shuts down. Reload swaps what can change under running sessions: the
// apps (auth rules, limits), the TLS certificate (read again; served
// through tls.Config.GetCertificate to new connections), the API token,
// drain and shutdown settings; anything else is logged as needing a
// restart. A Reload that fails changes nothing.
//
// Drain stops accepting RTMP, turns /healthz to 503, sends the Enhanced
// RTMP v2 ReconnectRequest to publishers that advertised
// CAPS_EX_RECONNECT (live.Hub.RequestReconnect) and waits for them to
// leave; Shutdown then ends everything politely.
//
// # Seams
//
// HTTPMux is the HTTP listener's mux (it serves /healthz): mount /metrics
// and /v1/ on it. Options.Hooks join the hub's hooks after auth and the
// limits (for metrics); Options.OnConnClose sees connections that end
// before publish or play; Options.Observe sees every HTTP hook call.
// Hub gives streams, sessions and kick; Config the configuration in force
// (APIToken for the API); Redact strips stream keys from anything shown.
//
// # Keys in logs
//
// The hub logs each session's stream name, and a stream name may be a
// key. The Server's logger (given to the hub, the RTMP server and auth)
// replaces every key it was ever configured with, token by token, in
// every string of every log line. Keys that only an HTTP hook knows are
// not known to the server: put them in the stream's query (?key=...),
// which is never logged.
package serve
