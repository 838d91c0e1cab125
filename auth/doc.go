// Package auth decides who may publish and play on a live.Hub, per
// application, the way nginx-rtmp users expect: static stream keys,
// allow and deny lists of addresses, and HTTP notification hooks
// (on_connect, on_publish, on_play, on_publish_done, on_play_done).
//
// An Auth produces live.Hooks (Auth.Hooks); join them with others with
// live.JoinHooks. Its rules are swapped atomically (Auth.Update): a change
// applies to the sessions that start afterwards, never to those running.
//
// # Rules, per application
//
// Rules.Apps holds an App per application name; the App named "default"
// applies to applications without one. An application with an instance
// ("live/studio") takes the rules of its full name, else of its first
// segment ("live"), else the default.
//
// # Keys
//
// When App.PublishKeys (or PlayKeys) is not empty, a publisher (player)
// must present one of them: as the stream name itself, or as the stream
// name's "key" query parameter (rtmp://host/live/stream?key=KEY). Keys are
// compared in constant time (SHA-256 digests with crypto/subtle), every
// key of the list each time. A key must never reach a log line or an API:
// Auth.Redact replaces every key this Auth was ever given (the current and
// earlier rules) in a string, token by token.
//
// # Addresses
//
// AllowPublish, DenyPublish, AllowPlay and DenyPlay are lists of prefixes
// (ParseAddrList reads "10.0.0.0/8", "192.0.2.7", "::1", "all"). The most
// specific prefix that contains the client's address decides (a deny wins
// a tie); an address that no prefix contains is refused when the allow
// list is not empty, else allowed. So "deny all, allow 10.0.0.0/8" allows
// the private network only, and "allow 10.0.0.0/8, deny 10.0.0.9" all of it
// but one host.
//
// # HTTP hooks
//
// A hook is an HTTP POST of a form (application/x-www-form-urlencoded), as
// nginx-rtmp sends: call (connect, publish, play, publish_done,
// play_done), app, name, addr (the client's IP), clientid (the hub's
// session id, as its API shows; absent for connect), tcurl, flashver,
// swfurl and pageurl when the client sent them, type (publish) or start,
// duration and reset (play), and the stream name's query arguments. The
// done hooks add reason, bytes_in, bytes_out, packets and duration
// (seconds).
//
// For on_connect, on_publish and on_play a 2xx answer allows; a 3xx with a
// Location renames the stream (on_publish and on_play: the Location is the
// new stream name, as nginx-rtmp); any other answer refuses, and its body
// (trimmed, at most MaxDescription bytes) is the description the client
// sees. A hook that does not answer within App.HookTimeout
// (DefaultHookTimeout), or cannot be reached, refuses (FailRefuse, the
// default) or allows (FailAllow). Done hooks are sent after the session
// ended, from a goroutine of their own, for sessions that started; their
// answer is ignored. Options.Observe sees every call's latency and outcome.
//
// Rules apply to sessions with a remote address: a recorder, a relay or a
// test that publishes or subscribes from inside the process is not asked.
package auth
