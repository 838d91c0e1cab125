package live

import (
	"log/slog"
	"time"

	rtmp "github.com/ertmp/rtmp"
)

// Defaults for Config fields left zero.
const (
	DefaultPlayWait            = 5 * time.Second
	DefaultRepublishGrace      = 10 * time.Second
	DefaultGOPMaxPackets       = 2048
	DefaultGOPMaxBytes         = 16 << 20
	DefaultQueueMaxBytes       = 32 << 20
	DefaultQueueMaxDelay       = 5 * time.Second
	DefaultSlowConsumerTimeout = 10 * time.Second
	DefaultPingInterval        = 10 * time.Second
	DefaultMaxStreams          = 1024
	DefaultMaxPlayers          = 4096
	DefaultMergeWindow         = 20 * time.Millisecond
)

// Fixed bounds on what one publisher can make a stream keep.
const (
	// MaxNameLength bounds the app and stream name (bytes each).
	MaxNameLength = 1024
	// MaxDataFrames bounds the @setDataFrame frames kept for late players;
	// frames with further names are still relayed live but not kept.
	MaxDataFrames = 16
	// MaxDataFrameBytes bounds the bytes of the data frames kept.
	MaxDataFrameBytes = 1 << 20
	// MaxHeaders bounds the decoder configurations (sequence headers and
	// their metadata, per codec and track) kept for late players.
	MaxHeaders = 32
)

// Config configures a Hub. The zero value is ready to use: every field left
// zero takes the default named beside it. A negative duration or count
// turns the feature off or lifts the limit, as each field says.
type Config struct {
	// ReplacePublisher lets a second publisher on a key take over: the first
	// is closed with ReasonReplaced. When false (the default) the second is
	// rejected with NetStream.Publish.BadName ("already publishing").
	ReplacePublisher bool

	// PlayWait is how long a player of a stream that is not published waits
	// for a publisher before it gets NetStream.Play.StreamNotFound
	// (DefaultPlayWait; negative: no wait).
	PlayWait time.Duration
	// RepublishGrace is how long players stay after the publisher leaves
	// (they get NetStream.Play.UnpublishNotify); a publisher that returns
	// under the same key within it continues the same stream for them
	// (DefaultRepublishGrace; negative: players are closed at once).
	RepublishGrace time.Duration

	// GOPMaxPackets and GOPMaxBytes bound the cache of the current group of
	// pictures (from the last key frame) that a new player starts with.
	// A GOP that grows past either is dropped until the next key frame; new
	// players then start at that key frame (DefaultGOPMaxPackets,
	// DefaultGOPMaxBytes; negative: no GOP cache).
	GOPMaxPackets int
	GOPMaxBytes   int

	// QueueMaxBytes and QueueMaxDelay bound each player's queue: the bytes
	// waiting to be written and how long the oldest has waited. Past
	// either, the player's queued video is dropped and video is skipped up
	// to the next key frame; audio, sequence headers and metadata are kept
	// (DefaultQueueMaxBytes, DefaultQueueMaxDelay; negative: no bound).
	QueueMaxBytes int
	QueueMaxDelay time.Duration
	// SlowConsumerTimeout is how long a player may stay behind (from an
	// overflow until its queue is empty again) before it is closed with
	// ReasonSlowConsumer (DefaultSlowConsumerTimeout; negative: never). A
	// player whose queue overflows with nothing left to drop is closed at
	// once.
	SlowConsumerTimeout time.Duration

	// SendBuffer, when positive, sets each player's socket send buffer
	// (SO_SNDBUF) in bytes. The kernel's own buffer sits in front of the
	// queue bounds: with the default (0, the OS's autotuning, up to a few
	// MB) a player that stops reading is noticed only once that buffer is
	// full. A smaller buffer notices sooner and keeps latency down; it must
	// still hold a round trip's worth of the stream's bitrate.
	SendBuffer int

	// PingInterval is how often players get a PingRequest
	// (DefaultPingInterval; negative: none). A player that only watches
	// sends almost nothing but its answers, so PingTimeout, the longest a
	// player may stay silent, applies only with pings on (default three
	// intervals); past it the player is closed with reason timeout.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// MaxStreams bounds the streams being published at once, and
	// MaxPlayers the players of one stream (DefaultMaxStreams,
	// DefaultMaxPlayers; negative: no limit). A request over the limit is
	// rejected.
	MaxStreams int
	MaxPlayers int

	// ForwardUndeclared sends Enhanced RTMP codecs (single track) to players
	// that declared no Enhanced RTMP capability at all. Many players parse
	// them without saying so; by default such a player is taken at its word
	// and gets the legacy tags only.
	ForwardUndeclared bool

	// MergeWindow lets an RTMP publisher's packets gather for up to this
	// long before its players are woken to write them (each wake-up is a
	// write per player), or until MergeBytes arrived (0: no byte bound);
	// decoder configurations and data go out at once
	// (DefaultMergeWindow; negative: players are woken at the end of each
	// batch of inbound messages).
	//
	// Measured with ertmp bench (300 players of a 3 Mbit/s stream, the
	// same run, server CPU per delivered Gbit): 0.208 s with no window,
	// 0.158 s with 20 ms, 0.103 s with 40 ms; nginx-rtmp 0.221 s. 20 ms is
	// the default: under one frame interval even at 50 fps, for a quarter
	// less CPU; 40 ms halves it for up to a frame more latency at 25 fps.
	MergeWindow time.Duration
	MergeBytes  int

	// Budget, when set, is the server-wide memory account (share it with
	// rtmp.Server.Budget): the hub charges its GOP caches, player queues
	// and kept data frames to it. When the account is over its limit, a
	// stream whose GOP cache is among the large ones (or any, once the
	// account is a quarter over) cuts it to its key frame and keeps no
	// more until the next one (late players start with that key frame,
	// then wait for the next); data frames are relayed but not kept; and
	// the players with the largest backlogs (at least 512 KiB; the newest
	// first among equals) are closed with ReasonMemoryBudget until the
	// account is back to 7/8 of its limit. Players that keep up hold
	// almost nothing and are never the ones closed. A packet queued for
	// several players counts once per queue: the account bounds the
	// backlog players build. Nil: no account.
	Budget *rtmp.MemoryBudget

	// Hooks are the lifecycle callbacks: connect, authorize, start, end.
	Hooks Hooks

	// App, when set, gives the settings of an application (the connect
	// app of a stream) that differ from the fields above: asked when a
	// stream is made (its GOP cache) and when a subscriber joins (its
	// queue).
	App func(app string) AppSettings

	// Logger gets one line per session start and end; nil means
	// slog.Default().
	Logger *slog.Logger
}

// AppSettings are the settings of Config that may differ per application.
// A zero field takes the Config's; a negative one turns the feature off or
// lifts the limit, as in Config.
type AppSettings struct {
	GOPMaxPackets       int
	GOPMaxBytes         int
	QueueMaxBytes       int
	QueueMaxDelay       time.Duration
	SlowConsumerTimeout time.Duration
}

// appLimits resolves the limits of an application's streams.
func (h *Hub) appLimits(app string) limits {
	l := h.lim
	if h.cfg.App == nil {
		return l
	}
	a := h.cfg.App(app)
	overrideInt(&l.gopPackets, a.GOPMaxPackets)
	overrideInt(&l.gopBytes, a.GOPMaxBytes)
	overrideInt(&l.queueBytes, a.QueueMaxBytes)
	overrideDur(&l.queueDelay, a.QueueMaxDelay)
	overrideDur(&l.slowTimeout, a.SlowConsumerTimeout)
	return l
}

// overrideInt and overrideDur apply a setting that is zero to keep the
// current value and negative to turn it off (0 in limits).
func overrideInt(cur *int, v int) {
	if v != 0 {
		*cur = intOr(v, 0)
	}
}

func overrideDur(cur *time.Duration, v time.Duration) {
	if v != 0 {
		*cur = durOr(v, 0)
	}
}

// limits are the effective values of a Config; immutable once the hub runs.
type limits struct {
	playWait, grace         time.Duration
	gopPackets, gopBytes    int
	queueBytes              int
	queueDelay, slowTimeout time.Duration
	pingInterval            time.Duration
	pingTimeout             time.Duration
	maxStreams, maxPlayers  int
	mergeWindow             time.Duration
	mergeBytes              int
}

func durOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func intOr(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// effective resolves the defaults. A zero in the result means "off" or "no
// limit", as the field's doc says.
func (c *Config) effective() limits {
	return limits{
		playWait:     durOr(c.PlayWait, DefaultPlayWait),
		grace:        durOr(c.RepublishGrace, DefaultRepublishGrace),
		gopPackets:   intOr(c.GOPMaxPackets, DefaultGOPMaxPackets),
		gopBytes:     intOr(c.GOPMaxBytes, DefaultGOPMaxBytes),
		queueBytes:   intOr(c.QueueMaxBytes, DefaultQueueMaxBytes),
		queueDelay:   durOr(c.QueueMaxDelay, DefaultQueueMaxDelay),
		slowTimeout:  durOr(c.SlowConsumerTimeout, DefaultSlowConsumerTimeout),
		pingInterval: durOr(c.PingInterval, DefaultPingInterval),
		pingTimeout:  durOr(c.PingTimeout, 3*durOr(c.PingInterval, DefaultPingInterval)),
		maxStreams:   intOr(c.MaxStreams, DefaultMaxStreams),
		maxPlayers:   intOr(c.MaxPlayers, DefaultMaxPlayers),
		mergeWindow:  durOr(c.MergeWindow, DefaultMergeWindow),
		mergeBytes:   max(c.MergeBytes, 0),
	}
}
