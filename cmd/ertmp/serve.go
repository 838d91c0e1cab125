package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

const serveUsage = `usage: ertmp serve [flags]

Runs a live RTMP server: publishers send to rtmp://HOST/APP/KEY, players
watch the same URL. SIGINT or SIGTERM shuts it down gracefully (players get
StreamEOF, publishers a polite close) within -shutdown-timeout.

flags:
`

// serveCmd runs "ertmp serve" until SIGINT or SIGTERM.
func serveCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr, nil)
}

// byteSize is a flag value in bytes that takes K, M, G (powers of 1024,
// with or without "iB") suffixes: 16MiB, 512K, 4096.
type byteSize int

func (b *byteSize) String() string { return strconv.Itoa(int(*b)) }

func (b *byteSize) Set(s string) error {
	mult := 1
	t := strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B")
	switch {
	case strings.HasSuffix(t, "K"), strings.HasSuffix(t, "k"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n > (1<<62)/mult || n < -(1<<62)/mult {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// serveConfig is what the flags say.
type serveConfig struct {
	listen          string
	srv             rtmp.Server
	hub             live.Config
	shutdownTimeout time.Duration
	logLevel        string
	logFormat       string
}

func parseServe(args []string, stderr io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("ertmp serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.listen, "listen", rtmp.DefaultAddr, "TCP `address` to listen on")
	chunkSize := fs.Uint("chunk-size", rtmp.DefaultChunkSize, "chunk size the server writes with")
	fs.DurationVar(&c.srv.HandshakeTimeout, "handshake-timeout", rtmp.DefaultHandshakeTimeout, "bound on the handshake")
	fs.DurationVar(&c.srv.RequestTimeout, "request-timeout", rtmp.DefaultRequestTimeout, "bound from handshake to publish or play")
	fs.DurationVar(&c.srv.Conn.ReadTimeout, "read-timeout", rtmp.DefaultReadTimeout, "a peer that sends nothing for this long is closed (negative: never)")
	fs.IntVar(&c.srv.MaxConns, "max-conns", rtmp.DefaultMaxConns, "most connections at once (negative: no limit)")
	fs.IntVar(&c.srv.MaxConnsPerIP, "max-conns-per-ip", rtmp.DefaultMaxConnsPerIP, "most connections at once from one IP address (negative: no limit)")
	fs.DurationVar(&c.srv.Conn.WriteTimeout, "write-timeout", rtmp.DefaultWriteTimeout, "bound on each write to a peer (negative: none)")

	fs.BoolVar(&c.hub.ReplacePublisher, "replace-publisher", false, "a second publisher of a key replaces the first (default: it is rejected)")
	fs.DurationVar(&c.hub.PlayWait, "play-wait", live.DefaultPlayWait, "how long a player waits for a stream not yet published (negative: no wait)")
	fs.DurationVar(&c.hub.RepublishGrace, "republish-grace", live.DefaultRepublishGrace, "how long players wait for a publisher to return (negative: none)")
	fs.IntVar(&c.hub.GOPMaxPackets, "gop-packets", live.DefaultGOPMaxPackets, "GOP cache bound in packets (negative: no GOP cache)")
	gopBytes := byteSize(live.DefaultGOPMaxBytes)
	fs.Var(&gopBytes, "gop-bytes", "GOP cache bound in bytes, e.g. 16MiB (negative: no GOP cache)")
	queueBytes := byteSize(live.DefaultQueueMaxBytes)
	fs.Var(&queueBytes, "queue-bytes", "bound on each player's queue in bytes (negative: none)")
	fs.DurationVar(&c.hub.QueueMaxDelay, "queue-delay", live.DefaultQueueMaxDelay, "bound on how long a packet waits in a player's queue (negative: none)")
	fs.DurationVar(&c.hub.SlowConsumerTimeout, "slow-timeout", live.DefaultSlowConsumerTimeout, "a player behind for this long is closed as a slow consumer (negative: never)")
	sendBuffer := byteSize(0)
	fs.Var(&sendBuffer, "send-buffer", "socket send buffer per player, e.g. 256KiB (0: the OS's autotuning)")
	fs.DurationVar(&c.hub.PingInterval, "ping-interval", live.DefaultPingInterval, "how often players are pinged (negative: never)")
	fs.DurationVar(&c.hub.PingTimeout, "ping-timeout", 0, "longest a pinged player may stay silent before it is closed (0: three ping intervals)")
	fs.IntVar(&c.hub.MaxStreams, "max-streams", live.DefaultMaxStreams, "most streams published at once (negative: no limit)")
	fs.IntVar(&c.hub.MaxPlayers, "max-players", live.DefaultMaxPlayers, "most players of one stream (negative: no limit)")
	fs.BoolVar(&c.hub.ForwardUndeclared, "forward-undeclared", false, "send Enhanced RTMP codecs to players that declared no Enhanced RTMP capability")

	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "bound on a graceful shutdown; past it connections are closed")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *chunkSize < 128 || *chunkSize > 0x7FFFFFFF {
		return nil, fmt.Errorf("-chunk-size %d: want 128 to 2147483647", *chunkSize)
	}
	if c.shutdownTimeout <= 0 {
		return nil, errors.New("-shutdown-timeout must be positive")
	}
	c.srv.ChunkSize = uint32(*chunkSize)
	c.hub.GOPMaxBytes, c.hub.QueueMaxBytes, c.hub.SendBuffer = int(gopBytes), int(queueBytes), int(sendBuffer)
	return c, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// serve runs the server until ctx ends, then shuts down. ready, when set,
// gets the listening address. It returns the exit status: 0 after a
// shutdown, 1 when the server cannot run, 2 for bad flags.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) int {
	c, err := parseServe(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ertmp serve: %v\n", err)
		return 2
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "ertmp serve: %v\n", err)
		return 2
	}
	c.hub.Logger = log
	hub := live.NewHub(c.hub)
	srv := &c.srv
	srv.Handler = hub
	srv.Logger = log
	// Any codec and any number of tracks pass through (Enhanced RTMP v2
	// connect _result: the server forwards what it is sent).
	srv.Capabilities = &rtmp.Capabilities{
		FourCCList:         []string{"*"},
		VideoFourCCInfoMap: map[string]message.FourCCInfoMask{"*": message.FourCCCanForward},
		AudioFourCCInfoMap: map[string]message.FourCCInfoMask{"*": message.FourCCCanForward},
		CapsEx:             message.CapsExMultitrack | message.CapsExModEx,
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		log.Error("ertmp: listen", "err", err)
		return 1
	}
	log.Info("ertmp: listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		log.Error("ertmp: serve", "err", err)
		return 1
	}
	log.Info("ertmp: shutting down", "timeout", c.shutdownTimeout)
	start := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	// The hub first: it ends every session with the reason "shutdown"
	// (players get StreamEOF, publishers a polite close) and refuses new
	// requests; then the server stops accepting and waits for the rest.
	herr := hub.Shutdown(sctx)
	serr := srv.Shutdown(sctx)
	<-served
	if herr != nil || serr != nil {
		log.Warn("ertmp: shutdown timed out; connections were closed", "after", time.Since(start).Round(time.Millisecond))
	} else {
		log.Info("ertmp: stopped", "after", time.Since(start).Round(time.Millisecond))
	}
	return 0
}
