// Package hls serves the live streams of a live.Hub as Low-Latency HLS
// (RFC 8216bis, HTTP Live Streaming 2nd edition, with its low-latency
// extensions) in fragmented MP4 (CMAF) made by package fmp4, in memory.
//
// A Server is an http.Handler for these paths (APP may hold slashes, as for
// HTTP-FLV):
//
//	/APP/STREAM/index.m3u8              the master playlist
//	/APP/STREAM/v0.m3u8, a0.m3u8, ...   a track's media playlist (v: video, a: audio; the track id)
//	/APP/STREAM/v0-INST.mp4             its initialization segment
//	/APP/STREAM/v0-INST-12.m4s          segment 12 (media sequence number)
//	/APP/STREAM/v0-INST-12.3.m4s        part 3 of segment 12
//
// INST names one run of a stream's muxer, so that a stream that stops and
// starts again never serves different media under a cached name.
//
// # One muxer per stream, on demand
//
// The first playlist request for a stream starts its muxer: one
// subscription of the hub (live.Hub.Subscribe, protocol "hls", every codec
// and multitrack tags whole), shared by every HLS viewer of the stream. It
// waits for a publisher as an RTMP player does (the hub's PlayWait): a
// viewer that asks just before the publisher starts gets the stream, not
// an error; past the wait it gets 404. The subscription reports loss
// instead of being closed as a slow consumer: viewers fetch from memory,
// so nothing they do can slow the muxer, and a muxer starved of CPU for a
// moment loses some video (up to the next key frame, logged and counted)
// rather than cutting every viewer off. The muxer stops after Options.Idle
// with no request; when the publisher leaves, the playlists end with
// EXT-X-ENDLIST and stay until idle, and the next master playlist request
// starts a new run.
//
// # Segments and parts
//
// Each track is a rendition of its own (CMAF: one track per initialization
// segment and per fragment), so that a multitrack stream's video tracks
// are variants and its audio tracks alternate renditions that players pick
// from; FFmpeg and hls.js read both. The lead track (the first video
// track, else the first audio track) cuts segments at its first key frame
// at least Options.Segment after the segment's start; the other tracks cut
// where the lead did (video tracks at their next key frame from there):
// their samples wait until the lead reached their time, so that a key
// frame that comes just before the lead's sees the cut. Segment numbers
// line up across playlists when the tracks' key frames do (a video track
// with other key frames gets segments of its own cadence). Every segment starts with a
// sync sample (EXT-X-INDEPENDENT-SEGMENTS). Each segment is made of parts
// of at most Options.Part (EXT-X-PART-INF PART-TARGET): a part ends before
// the sample that would take it past the target, judged by the longest
// sample interval seen. A segment is its parts' bytes, held once.
//
// EXT-X-TARGETDURATION is the segment duration rounded up to whole
// seconds, raised when a longer segment appears (a longer group of
// pictures than any before): every EXTINF, rounded to the nearest integer,
// is at most it (RFC 8216bis §4.4.3.1). Each playlist keeps
// Options.Segments complete segments and the one being filled; the media
// sequence number grows by one per segment dropped. Each segment carries
// EXT-X-PROGRAM-DATE-TIME: the wall clock when the first sample arrived,
// plus media time.
//
// Memory is bounded by the window: a stream holds its initialization
// segments, Segments complete segments per track and the one being
// filled. A lead track with no key frame for 30 s, or a segment past 64
// MiB, ends the stream's HLS (EXT-X-ENDLIST, logged with the reason) rather
// than holding more. Server.Stats reports what each stream holds.
//
// # Blocking playlist reload
//
// Media playlists advertise CAN-BLOCK-RELOAD and a PART-HOLD-BACK of three
// part targets. A request with _HLS_msn=M (and _HLS_part=P) waits until
// segment M is complete (or part P of segment M, or a later one, is out),
// at most three target durations, then 503; one more than two segments
// ahead of the playlist, a part more than three seconds of parts ahead,
// _HLS_part without _HLS_msn, or a value that is not a number gets 400 at
// once (RFC 8216bis §6.2.5.2). The part named by EXT-X-PRELOAD-HINT, and
// the segment being filled, are answered as soon as they are complete.
// Requests waiting at once are bounded (Options.MaxBlocked, then 503).
//
// # Master playlist
//
// index.m3u8 is always a master playlist, also for one video and one
// audio track: each video track is an EXT-X-STREAM-INF variant with its
// RESOLUTION, CODECS (RFC 6381: avc1.64001f, hvc1.1.6.L93.90,
// av01.0.04M.08, vp09.00.21.08, mp4a.40.2, opus, fLaC, ac-3, ec-3, ...)
// and BANDWIDTH (the highest segment bit rate measured so far, plus the
// audio's); each audio track an EXT-X-MEDIA TYPE=AUDIO of group "audio",
// with its NAME and LANGUAGE from onMetaData (the top level for track 0,
// audioTrackIdInfoMap for the others, Enhanced RTMP v2) when present.
//
// # Access
//
// Every request is a play for the hub's Authorize hook (live.Hub.Authorize:
// stream keys, addresses, on_play hooks), with the request's query; the
// answer is remembered for a few seconds per stream, query and address, so
// that a player's many requests cost one hook call. Every URI in a
// playlist carries the viewer's query, so the key follows the player.
// Refusals: 403 (denied), 404 (no such stream or resource), 503 (shutting
// down, too many waiting requests, no segment in time). Every answer has
// Access-Control-Allow-Origin: *; playlists are not cached
// (Cache-Control: no-cache), media is (max-age=3600: its names are
// unique).
package hls
