// Package live is the streaming hub of ertmp: publishers feed streams keyed
// by app and stream name, any number of subscribers watch them live. A
// *Hub is an rtmp.Handler; serve it with rtmp.Server.
//
// # Seams
//
// Every output attaches to a stream the way an RTMP player does, and every
// source feeds one the way an RTMP publisher does; the RTMP player and
// publisher are themselves built on these two seams:
//
//   - Hub.Subscribe(ctx, key, SubscribeOptions) returns a *Subscription:
//     start from the cached GOP with the decoder configurations and data
//     frames in force, a bounded queue (bytes and age), drops to the next
//     key frame when behind, then either a slow-consumer close (players)
//     or a NoticeLoss item (ReportLoss: recorders, relays), Enhanced RTMP
//     selection from the subscriber's Capabilities (or AllCodecs). Read
//     or TryRead take everything queued at once; Ready is the
//     subscription's own signal for a select.
//   - Hub.Publish(ctx, key, PublishOptions) returns a *Publication: the
//     same rules as an RTMP publisher (one per key or replace, republish
//     grace, monotonic time, limits) for a relay, a file, a test.
//   - A *Packet is the protocol-neutral view of a message (type,
//     timestamp, payload, key frame, sequence header, codec, track) with a
//     cache of its encodings: Packet.Prepared (chunked RTMP at a chunk
//     size) and Packet.Bytes(format) for any Format (FLVTag built in), each
//     made once per packet and shared by every subscriber of that format.
//   - Config.Hooks are asked at connect (Connect), before a publish or a
//     subscription (Authorize: refuse with a description, or rename), and
//     told when one starts (Start: after the hub took it, never for a
//     refused one) and ends (End: the reason and counts). Hub.Kick and
//     Hub.KickPublisher end sessions; Hub.Streams and Hub.Sessions report.
//     Refusals are sentinel errors (ErrStreamBusy, ErrTooManyStreams, ...)
//     for errors.Is.
//
// # Why
//
// A relay that copies each message to each player, or waits for the
// slowest, does not scale and lets one bad connection hurt everyone. The
// hub does the work of a message once, shares its bytes with every player,
// and never lets a player's socket delay the publisher or another player.
//
// # Data flow
//
// The publisher's goroutine reads a packet (rtmp.PublishSession.ReadPacket)
// and, under the stream's mutex: maps its timestamp onto the stream's time
// line, parses its FLV tag header once (no allocation), keeps what late
// players need (sequence headers and codec metadata per track,
// @setDataFrame frames, the current GOP), and appends a reference to it to
// the queue of every player that can take it. That is all: no I/O, no copy,
// no encoding per player.
//
// Each subscriber has a bounded queue and a reader of its own (for an RTMP
// player, its connection's handler goroutine, which alone writes to the
// connection): it takes everything queued, writes each packet's chunked
// bytes and flushes once (writev). It waits on its subscription's own
// signal, never on a channel shared by the hub. A
// packet is chunked once per (chunk size, message stream id), with a full
// type 0 header on its first chunk, so the same bytes are valid on every
// connection (chunk.NewPrepared); nearly all players share one encoding.
//
// # Queue policy (slow players)
//
// A queue is bounded by bytes (Config.QueueMaxBytes) and by the age of its
// oldest entry (Config.QueueMaxDelay). Past either, the player has fallen
// behind: its queued video is dropped and video is skipped up to the next
// key frame; audio, sequence headers, metadata and data are kept, so it
// resumes cleanly at that key frame. A player that stays behind (its queue
// does not empty) for Config.SlowConsumerTimeout, or whose queue is still
// over the byte bound with nothing left to drop, is closed with
// ReasonSlowConsumer: its connection is closed, which also frees a writer
// stuck in a write. The kernel's send buffer sits in front of these bounds
// (see Config.SendBuffer).
//
// # Instant start
//
// A new player gets the data frames and the decoder configurations in
// force at the start of the cached GOP, stamped at that GOP's first
// timestamp, then the GOP from its key frame, then live packets. The
// player joins under the stream's mutex, between two packets, so there is
// no gap and no duplicate. The GOP cache is bounded (Config.GOPMaxPackets,
// Config.GOPMaxBytes); a GOP past the bounds is dropped, and new players
// then start with live audio and the next key frame.
//
// # Publishers come and go
//
// One publisher per key: a second is rejected with
// NetStream.Publish.BadName, or replaces the first
// (Config.ReplacePublisher). A player of a stream that is not published
// waits up to Config.PlayWait. When the publisher leaves, players get
// NetStream.Play.UnpublishNotify and stay for Config.RepublishGrace; a
// publisher that returns under the key within it continues their stream:
// NetStream.Play.PublishNotify, its sequence headers and metadata, then
// video from its first key frame. Timestamps are unwrapped to 64 bits (RFC
// 1982 serial arithmetic) and stay monotonic across publishers: the new
// stream starts just after the last timestamp players got.
//
// # Enhanced RTMP tracks
//
// Every codec and track passes through untouched to players that declared
// they take it in connect (fourCcList, the FourCC info maps, capsEx
// multitrack; see rtmp.Capabilities). A legacy player gets the legacy tags
// only. A player that takes a codec but not multitrack gets the default
// track (track 0) of a multitrack tag as a plain enhanced tag
// (flv.VideoTag.TrackTag), made once per message; one-track multitrack
// tags of other tracks (how FFmpeg sends its second and later tracks) it
// does not get.
//
// # Sessions
//
// Every session ends with a Reason (client closed, rejected, protocol
// error, timeout, slow consumer, publisher gone, shutdown, replaced),
// logged with log/slog in one line per session start and end, with byte
// and packet counts, and passed to Hooks.End. Hub.Shutdown ends them all
// politely.
//
// # Concurrency
//
// A Hub is safe for concurrent use. Lock order: Hub.mu, then stream.mu,
// then Subscription.mu. The publishing goroutine owns a packet until it is
// published; after that a packet is immutable and shared. A subscriber's
// queue is guarded by its mutex, held for a few instructions by the
// publisher (enqueue) and the writer (taking a batch); its connection
// belongs to its writer.
package live
